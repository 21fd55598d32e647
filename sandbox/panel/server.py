"""Run a sandbox panel on a free loopback port, in the caller's event loop, over real HTTP."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping
from typing import Any

from sandbox.panel import traffic
from sandbox.panel.app import PanelApp
from sandbox.panel.auth import Auth
from sandbox.panel.faults import Faults
from sandbox.panel.state import V3_1, PanelState, SandboxInbound
from sandbox.serving import Restartable


class SandboxPanel(Restartable):
    """One simulated 3x-ui panel with one VLESS Reality inbound (more via `state.add_inbound`)."""

    def __init__(
        self,
        version: str = V3_1,
        base_path: str = "/",
        username: str = "admin",
        password: str = "admin",
        totp_secret: str = "",
        api_tokens: dict[str, set[str]] | None = None,
        cookie_name: str = "3x-ui",
        legacy_unauth: bool = False,
        port: int = 0,
    ) -> None:
        self.state = PanelState(version)
        self.auth = Auth(username, password, totp_secret, tokens=dict(api_tokens or {}))
        self.faults = Faults()
        self.app = PanelApp(self.state, self.auth, self.faults, base_path, cookie_name, legacy_unauth)
        self.inbound: SandboxInbound = self.state.add_inbound()
        self.port = port

    @property
    def version(self) -> str:
        return self.state.version

    @property
    def username(self) -> str:
        return self.auth.username

    @property
    def password(self) -> str:
        return self.auth.password

    @property
    def inbound_id(self) -> int:
        return self.inbound.id

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.app.base}"

    @property
    def calls(self) -> int:
        return sum(self.app.calls.values())

    def expire_sessions(self) -> None:
        """Every cookie session dies, as after `sessionMaxAge` or a password change."""
        self.auth.expire_all()

    def tick(self, usage: Mapping[str, tuple[int, int]] | None = None, at_ms: int | None = None) -> list[str]:
        """Play one traffic-job cycle: `usage` is email -> (up, down) bytes since the last one."""
        return traffic.tick(self.state, usage, at_ms)

    def client(self, email: str, inbound_id: int | None = None) -> dict[str, Any] | None:
        inbound = self.state.inbounds[inbound_id or self.inbound_id]
        return inbound.find("email", email)

    def clients(self, inbound_id: int | None = None) -> list[dict[str, Any]]:
        return list(self.state.inbounds[inbound_id or self.inbound_id].clients)

    async def __aenter__(self) -> SandboxPanel:
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.stop()


@contextlib.asynccontextmanager
async def sandbox_panel(**options: Any) -> AsyncIterator[SandboxPanel]:
    """`async with sandbox_panel(version="v2") as panel:` -> panel.url, .username, .password,
    .inbound_id, .faults, .state, .down()/.up(), .expire_sessions(), .calls."""
    panel = SandboxPanel(**options)
    async with panel:
        yield panel
