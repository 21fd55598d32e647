"""What the VPN hosts' pages (`routes/hosts.py`) and the MTG hosts' pages (`routes/mtg.py`) do
alike: the registry service acting for the operator, a refusal as form errors, and the
enable/disable switch."""

from __future__ import annotations

from typing import Any, TypeVar

from fastapi import Request
from fastapi.responses import RedirectResponse

from console.auth import actor
from shop.access.host_registry import HostError, HostRegistry
from shop.context import AppContext
from shop.crypto import Sealer
from shop.operators.signin import Operator

R = TypeVar("R", bound=HostRegistry[Any])


def app_context(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx


def registry(request: Request, operator: Operator, kind: type[R]) -> R:
    settings = app_context(request).settings
    return kind(
        app_context(request).sessions,
        Sealer.from_settings(settings),
        settings.panel_timeout_seconds,
        actor(operator),
    )


def form_errors(error: HostError) -> dict[str, str]:
    """The refusal beside the field it names, else above the form."""
    return {error.field or "form": error.code or "invalid"}


async def switch_enabled(
    request: Request, service: HostRegistry[Any], name: str, page: str, done: tuple[str, str]
) -> RedirectResponse:
    """Enables or disables as the form says; back to `page` with `done` = (enabled, disabled)
    notice keys."""
    enabled = (await request.form()).get("enabled") == "1"
    await service.set_enabled(name, enabled)
    return RedirectResponse(f"{page}?done={done[0] if enabled else done[1]}", status_code=303)
