"""MTG panels (the Telegram proxy product): what `vpnshop mtg` does (add with the login and node
check, edit, enable, disable, check now, delete with the panel cleanup). Owners only."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from console.auth import NotFound, actor, require_role
from console.render import render
from shop.access.hosts import HostError
from shop.context import AppContext
from shop.crypto import Sealer
from shop.models import MtgHost
from shop.operators.roles import Role
from shop.operators.signin import Operator
from shop.proxy.hosts import MtgHostService, parse_mtg_input

router = APIRouter()
owner = Depends(require_role(Role.OWNER))
FIELDS = ("name", "panel_url", "username", "password", "sort_order")


def _ctx(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx


def _service(request: Request, operator: Operator) -> MtgHostService:
    settings = _ctx(request).settings
    return MtgHostService(
        _ctx(request).sessions,
        Sealer.from_settings(settings),
        settings.panel_timeout_seconds,
        actor(operator),
    )


async def _form(request: Request) -> dict[str, Any]:
    form = await request.form()
    values = {key: str(form.get(key, "")).strip() for key in FIELDS}
    return {key: value for key, value in values.items() if value}  # empty: the default, or what is stored


def _shown(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if key != "password"}


async def _list(request: Request, operator: Operator, status: int = 200, **extra: Any) -> Response:
    service = _service(request, operator)
    counts = await service.proxy_counts()
    rows = [(host, counts.get(host.id, 0)) for host in await service.hosts()]
    return render(request, operator, "mtg_hosts.html", status=status, rows=rows, **extra)


@router.get("/mtg")
async def mtg_hosts(request: Request, operator: Operator = owner) -> Response:
    return await _list(request, operator, values={})


@router.post("/mtg")
async def add_mtg_host(request: Request, operator: Operator = owner) -> Response:
    values = await _form(request)
    try:
        host = await _service(request, operator).add(parse_mtg_input(values))
    except HostError as error:
        errors = {error.field or "form": error.code or "invalid"}
        return await _list(request, operator, 422, values=_shown(values), errors=errors, detail=str(error))
    return RedirectResponse(f"/console/mtg/{host.id}?done=done_mtg_added", status_code=303)


async def _host(request: Request, operator: Operator, host_id: int) -> MtgHost:
    for host in await _service(request, operator).hosts():
        if host.id == host_id:
            return host
    raise NotFound


async def _page(
    request: Request, operator: Operator, host: MtgHost, status: int = 200, **extra: Any
) -> Response:
    counts = await _service(request, operator).proxy_counts()
    values = extra.pop("values", None) or {
        "name": host.name,
        "panel_url": host.panel_url,
        "username": host.username,
        "sort_order": host.sort_order,
    }
    return render(
        request,
        operator,
        "mtg_host.html",
        status=status,
        host=host,
        proxies=counts.get(host.id, 0),
        values=values,
        **extra,
    )


@router.get("/mtg/{host_id}")
async def mtg_host(request: Request, host_id: int, operator: Operator = owner) -> Response:
    return await _page(request, operator, await _host(request, operator, host_id))


@router.post("/mtg/{host_id}")
async def edit_mtg_host(request: Request, host_id: int, operator: Operator = owner) -> Response:
    host = await _host(request, operator, host_id)
    values = await _form(request)
    try:
        await _service(request, operator).edit(host.name, values)
    except HostError as error:
        errors = {error.field or "form": error.code or "invalid"}
        return await _page(
            request, operator, host, 422, values=_shown(values), errors=errors, detail=str(error)
        )
    return RedirectResponse(f"/console/mtg/{host_id}?done=done_mtg_saved", status_code=303)


@router.post("/mtg/{host_id}/check")
async def check_mtg_host(request: Request, host_id: int, operator: Operator = owner) -> Response:
    host = await _host(request, operator, host_id)
    try:
        nodes = await _service(request, operator).check(host.name)
    except HostError as error:
        return await _page(request, operator, host, check_error=str(error))
    return await _page(request, operator, host, nodes=nodes)


@router.post("/mtg/{host_id}/enabled")
async def enable_mtg_host(request: Request, host_id: int, operator: Operator = owner) -> Response:
    host = await _host(request, operator, host_id)
    enabled = (await request.form()).get("enabled") == "1"
    await _service(request, operator).set_enabled(host.name, enabled)
    done = "done_mtg_enabled" if enabled else "done_mtg_disabled"
    return RedirectResponse(f"/console/mtg/{host_id}?done={done}", status_code=303)


@router.post("/mtg/{host_id}/delete")
async def delete_mtg_host(request: Request, host_id: int, operator: Operator = owner) -> Response:
    host = await _host(request, operator, host_id)
    try:
        await _service(request, operator).delete(host.name, _ctx(request).settings.panel_email_prefix)
    except HostError as error:
        return await _page(request, operator, host, 409, delete_error=str(error))
    return RedirectResponse("/console/mtg?done=done_mtg_deleted", status_code=303)
