"""Promo codes: the list with each code's performance (uses, revenue, discount given), create and
edit with inline validation, deactivate and activate, and a code's uses. Owners only."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from console.auth import NotFound, actor, require_role
from console.render import render
from shop.models import PromoKind
from shop.operators.forms import Invalid
from shop.operators.roles import Role
from shop.operators.signin import Operator
from shop.promo.catalogue import PromoCatalogue, PromoDraft, parse_promo

router = APIRouter()
owner = Depends(require_role(Role.OWNER))


def _catalogue(request: Request) -> PromoCatalogue:
    return PromoCatalogue(request.app.state.ctx.sessions)


def _done(key: str) -> Response:
    return RedirectResponse(f"/console/promo?done={key}", status_code=303)


def _values(draft: PromoDraft) -> dict[str, Any]:
    moment = "%Y-%m-%dT%H:%M"
    return {
        "code": draft.code,
        "kind": draft.kind.value,
        "value": draft.value_text,
        "max_uses": "" if draft.max_uses is None else str(draft.max_uses),
        "once_per_customer": "on" if draft.once_per_customer else "",
        "first_purchase_only": "on" if draft.first_purchase_only else "",
        "valid_from": draft.valid_from.strftime(moment) if draft.valid_from else "",
        "valid_until": draft.valid_until.strftime(moment) if draft.valid_until else "",
        "plan_ids": ",".join(str(plan) for plan in draft.plan_ids),
        "active": "on" if draft.active else "",
        "comment": draft.comment,
    }


async def _form(
    request: Request, operator: Operator, values: dict[str, Any], status: int = 200, **extra: Any
) -> Response:
    return render(
        request, operator, "promo_form.html", status=status, values=values, kinds=list(PromoKind), **extra
    )


async def _submitted(request: Request) -> dict[str, Any]:
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


@router.get("/promo")
async def promo_list(request: Request, operator: Operator = owner) -> Response:
    return render(request, operator, "promo.html", rows=await _catalogue(request).rows())


@router.get("/promo/new")
async def new_code(request: Request, operator: Operator = owner) -> Response:
    return await _form(request, operator, {"kind": "percent", "active": "on", "once_per_customer": "on"})


@router.post("/promo/new")
async def create_code(request: Request, operator: Operator = owner) -> Response:
    values = await _submitted(request)
    try:
        await _catalogue(request).create(actor(operator), parse_promo(values))
    except Invalid as invalid:
        return await _form(request, operator, values, status=422, errors=invalid.fields)
    return _done("done_promo_created")


@router.get("/promo/{code_id}")
async def edit_code(request: Request, code_id: int, operator: Operator = owner) -> Response:
    catalogue = _catalogue(request)
    row = await catalogue.get(code_id)
    if row is None:
        raise NotFound
    return await _form(request, operator, _values(row.draft), code=row, uses=await catalogue.uses(code_id))


@router.post("/promo/{code_id}")
async def update_code(request: Request, code_id: int, operator: Operator = owner) -> Response:
    values = await _submitted(request)
    catalogue = _catalogue(request)
    try:
        changed = await catalogue.update(actor(operator), code_id, parse_promo(values))
    except Invalid as invalid:
        row = await catalogue.get(code_id)
        uses = await catalogue.uses(code_id)
        return await _form(request, operator, values, status=422, errors=invalid.fields, code=row, uses=uses)
    except LookupError:
        raise NotFound from None
    return _done("done_promo_saved" if changed else "done_nothing_changed")


@router.post("/promo/{code_id}/active")
async def code_active(request: Request, code_id: int, operator: Operator = owner) -> Response:
    active = (await request.form()).get("active") == "1"
    try:
        await _catalogue(request).set_active(actor(operator), code_id, active)
    except LookupError:
        raise NotFound from None
    return _done("done_promo_activated" if active else "done_promo_deactivated")
