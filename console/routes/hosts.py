"""Hosts: what `vpnshop hosts` does (add with the panel checks, edit, enable, disable, delete with
the panel cleanup), plus check now, reconcile now, the last reconciliation report and the customers
a host is behind on. Owners only."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from console.auth import NotFound, actor, require_role
from console.host_pages import app_context, form_errors, registry, switch_enabled
from console.render import render
from shop.access.host_status import behind, check_host, reconcile_now
from shop.access.hosts import SECRET_FIELDS, HostError, HostInput, HostService, parse_input
from shop.access.reconcile import last_report
from shop.models import Host
from shop.operators.roles import Role
from shop.operators.signin import Operator

router = APIRouter()
owner = Depends(require_role(Role.OWNER))
TEXT_FIELDS = (
    "name",
    "panel_url",
    "inbound_id",
    "username",
    "public_address",
    "country",
    "flag",
    "sort_order",
)


def _service(request: Request, operator: Operator) -> HostService:
    return registry(request, operator, HostService)


async def _form(request: Request) -> dict[str, Any]:
    form = await request.form()
    values: dict[str, Any] = {key: str(form.get(key, "")).strip() for key in (*TEXT_FIELDS, *SECRET_FIELDS)}
    values["verify_tls"] = "on" if form.get("verify_tls") else ""
    return values


def _changes(values: dict[str, Any]) -> dict[str, object]:
    """The form as HostInput fields: empty optional fields are left out (their defaults, or for
    an edit what is stored: an empty password keeps the stored one)."""
    changes: dict[str, object] = {
        key: value for key, value in values.items() if value and key != "verify_tls"
    }
    changes["verify_tls"] = bool(values["verify_tls"])
    if not values["sort_order"]:
        changes.pop("sort_order", None)
    return changes


def _values_of(host: Host) -> dict[str, Any]:
    values: dict[str, Any] = {
        key: getattr(host, key) for key in HostInput.model_fields if key not in SECRET_FIELDS
    }
    values["verify_tls"] = "on" if host.verify_tls else ""
    values["public_address"] = host.public_address or ""
    return values


@router.get("/hosts")
async def hosts(request: Request, operator: Operator = owner) -> Response:
    service = _service(request, operator)
    listed = await service.list()
    counts = await service.client_counts()
    rows = [(host, counts.get(host.id, 0), last_report(host)) for host in listed]
    return render(request, operator, "hosts.html", rows=rows)


@router.get("/hosts/new")
async def new_host(request: Request, operator: Operator = owner) -> Response:
    return render(request, operator, "host_form.html", values={"verify_tls": "on"})


@router.post("/hosts/new")
async def add_host(request: Request, operator: Operator = owner) -> Response:
    values = await _form(request)
    service = _service(request, operator)
    try:
        host = await service.add(parse_input(_changes(values)))
    except HostError as error:
        shown = {key: value for key, value in values.items() if key not in SECRET_FIELDS}
        return render(
            request,
            operator,
            "host_form.html",
            status=422,
            values=shown,
            errors=form_errors(error),
            detail=str(error),
        )
    return RedirectResponse(f"/console/hosts/{host.id}?done=done_host_added", status_code=303)


async def _page(
    request: Request, operator: Operator, host: Host, status: int = 200, **extra: Any
) -> Response:
    lagging, total = await behind(app_context(request), host)
    values = extra.pop("values", None) or _values_of(host)
    return render(
        request,
        operator,
        "host.html",
        status=status,
        host=host,
        values=values,
        report=extra.pop("report", None) or last_report(host),
        behind=lagging,
        behind_total=total,
        **extra,
    )


async def _host(request: Request, operator: Operator, host_id: int) -> Host:
    try:
        return await _service(request, operator).by_id(host_id)
    except HostError:
        raise NotFound from None


@router.get("/hosts/{host_id}")
async def host_page(request: Request, host_id: int, operator: Operator = owner) -> Response:
    host = await _host(request, operator, host_id)
    return await _page(request, operator, host)


@router.post("/hosts/{host_id}")
async def edit_host(request: Request, host_id: int, operator: Operator = owner) -> Response:
    host = await _host(request, operator, host_id)
    values = await _form(request)
    try:
        await _service(request, operator).edit(host.name, _changes(values))
    except HostError as error:
        shown = {key: value for key, value in values.items() if key not in SECRET_FIELDS}
        return await _page(
            request, operator, host, 422, values=shown, errors=form_errors(error), detail=str(error)
        )
    return RedirectResponse(f"/console/hosts/{host_id}?done=done_host_saved", status_code=303)


@router.post("/hosts/{host_id}/check")
async def check(request: Request, host_id: int, operator: Operator = owner) -> Response:
    host = await _host(request, operator, host_id)
    result = await check_host(_service(request, operator), host)
    return await _page(request, operator, host, check=result)


@router.post("/hosts/{host_id}/reconcile")
async def reconcile(request: Request, host_id: int, operator: Operator = owner) -> Response:
    host = await _host(request, operator, host_id)
    report = await reconcile_now(app_context(request), actor(operator), host)
    refreshed = await _host(request, operator, host_id)  # with the report the activity stored
    return await _page(request, operator, refreshed, report=report, reconciled=True)


@router.post("/hosts/{host_id}/enabled")
async def set_enabled(request: Request, host_id: int, operator: Operator = owner) -> Response:
    host = await _host(request, operator, host_id)
    done = ("done_host_enabled", "done_host_disabled")
    return await switch_enabled(
        request, _service(request, operator), host.name, f"/console/hosts/{host_id}", done
    )


@router.post("/hosts/{host_id}/delete")
async def delete(request: Request, host_id: int, operator: Operator = owner) -> Response:
    host = await _host(request, operator, host_id)
    service = _service(request, operator)
    try:
        await service.delete_with_cleanup(host.name, app_context(request).settings.panel_email_prefix)
    except HostError as error:
        return await _page(request, operator, host, 409, delete_error=str(error))
    return RedirectResponse("/console/hosts?done=done_host_deleted", status_code=303)
