"""MTG panels (the Telegram proxy product): what `vpnshop mtg` does (add with the login and node
check, edit, enable, disable, check now, delete with the panel cleanup). Owners only."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from console.auth import NotFound, require_role
from console.host_pages import app_context, form_errors, registry, switch_enabled
from console.render import render
from shop.access.hosts import HostError
from shop.models import MtgHost
from shop.operators.roles import Role
from shop.operators.signin import Operator
from shop.proxy.hosts import MtgHostService, parse_mtg_input

router = APIRouter()
owner = Depends(require_role(Role.OWNER))
FIELDS = ("name", "panel_url", "username", "password", "sort_order")


def _service(request: Request, operator: Operator) -> MtgHostService:
    return registry(request, operator, MtgHostService)


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
        errors = form_errors(error)
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
        return await _page(
            request, operator, host, 422, values=_shown(values), errors=form_errors(error), detail=str(error)
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
    done = ("done_mtg_enabled", "done_mtg_disabled")
    return await switch_enabled(
        request, _service(request, operator), host.name, f"/console/mtg/{host_id}", done
    )


@router.post("/mtg/{host_id}/delete")
async def delete_mtg_host(request: Request, host_id: int, operator: Operator = owner) -> Response:
    host = await _host(request, operator, host_id)
    try:
        await _service(request, operator).delete(host.name, app_context(request).settings.panel_email_prefix)
    except HostError as error:
        return await _page(request, operator, host, 409, delete_error=str(error))
    return RedirectResponse("/console/mtg?done=done_mtg_deleted", status_code=303)
