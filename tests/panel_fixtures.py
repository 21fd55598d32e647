"""Panel fixtures: sandbox 3x-ui panels over real HTTP, hosts pointing at them, a worker with keys.

`sandbox_panel(version=..., base_path=..., totp_secret=..., api_tokens=...)` (from sandbox.panel) is
the building block; the fixtures below start panels on free loopback ports and stop them after.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from cryptography.fernet import Fernet
from temporalio.client import Client

from sandbox.panel import VERSIONS, SandboxPanel
from shop.access.hosts import HostService, parse_input
from shop.context import AppContext
from shop.crypto import Sealer
from shop.models import Host
from worker.main import build_worker

TEST_KEY = Fernet.generate_key().decode()
StartPanel = Callable[..., Awaitable[SandboxPanel]]


@pytest.fixture
async def start_panel() -> AsyncIterator[StartPanel]:
    """`panel = await start_panel(version="v2")`: any number of sandbox panels, stopped afterwards."""
    async with contextlib.AsyncExitStack() as stack:

        async def start(**options: Any) -> SandboxPanel:
            return await stack.enter_async_context(SandboxPanel(**options))

        yield start


@pytest.fixture(params=VERSIONS)
async def any_panel(request: pytest.FixtureRequest, start_panel: StartPanel) -> SandboxPanel:
    """One sandbox panel per 3x-ui version mode, under a randomised-looking base path."""
    return await start_panel(version=request.param, base_path="/JfhUey7Ikt4Yxhf/")


def panel_settings(**extra: Any) -> dict[str, Any]:
    return {"encryption_key": TEST_KEY, "panel_timeout_seconds": 2.0, **extra}


@pytest.fixture
async def panel_ctx(sqlite_db: Any, temporal_client: Client, task_queue: str) -> AppContext:
    from tests.conftest import make_context

    return make_context(sqlite_db, temporal_client, task_queue, **panel_settings())


@pytest.fixture
async def panel_worker(panel_ctx: AppContext, temporal_client: Client) -> AsyncIterator[AppContext]:
    async with build_worker(panel_ctx, temporal_client):
        yield panel_ctx


async def add_sandbox_host(ctx: AppContext, panel: SandboxPanel, name: str = "", **fields: object) -> Host:
    """Register a sandbox panel as a shop host through the real host service (login + inbound check)."""
    service = HostService(ctx.sessions, Sealer.from_settings(ctx.settings))
    values: dict[str, object] = {
        "name": name or f"{panel.version}-{panel.port}",
        "panel_url": panel.url,
        "username": panel.username,
        "password": panel.password,
        "inbound_id": panel.inbound_id,
        "flag": "🇩🇪",
        **fields,
    }
    return await service.add(parse_input(values))
