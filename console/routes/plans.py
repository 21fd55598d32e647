"""Plans: the list in the bot's order, create and edit with inline validation, reorder, hide/show,
delete (only a plan no payment refers to). Owners only."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from console.auth import NotFound, actor, require_role
from console.render import render
from shop.models import PaymentMethod, PlanAudience, Product
from shop.operators.forms import Invalid
from shop.operators.roles import Role
from shop.operators.signin import Operator
from shop.payments.catalogue import PlanCatalogue, PlanInUse, parse_plan
from shop.payments.service import available_methods

router = APIRouter()
owner = Depends(require_role(Role.OWNER))


def _catalogue(request: Request) -> PlanCatalogue:
    return PlanCatalogue(request.app.state.ctx.sessions)


def _done(key: str) -> Response:
    return RedirectResponse(f"/console/plans?done={key}", status_code=303)


async def _form_page(
    request: Request, operator: Operator, values: dict[str, Any], status: int = 200, **extra: Any
) -> Response:
    ctx = request.app.state.ctx
    settings = ctx.settings
    owner = await ctx.storefront.current()
    return render(
        request,
        operator,
        "plan_form.html",
        status=status,
        values=values,
        methods=list(PaymentMethod),
        enabled=set(available_methods(settings, owner)),
        audiences=list(PlanAudience),
        products=list(Product),
        currency=settings.currency,
        **extra,
    )


async def _submitted(request: Request) -> tuple[dict[str, Any], list[str]]:
    form = await request.form()
    values: dict[str, Any] = {key: value for key, value in form.items() if isinstance(value, str)}
    methods = [value for value in form.getlist("methods") if isinstance(value, str)]
    values["methods"] = methods
    return values, methods


@router.get("/plans")
async def plans(request: Request, operator: Operator = owner) -> Response:
    rows = await _catalogue(request).rows()
    return render(request, operator, "plans.html", rows=rows)


@router.get("/plans/new")
async def new_plan(request: Request, operator: Operator = owner) -> Response:
    return await _form_page(
        request, operator, {"active": "on", "audience": "any", "product": "vpn", "methods": []}
    )


@router.post("/plans/new")
async def create_plan(request: Request, operator: Operator = owner) -> Response:
    values, methods = await _submitted(request)
    try:
        draft = parse_plan(values, methods, request.app.state.ctx.settings.currency)
    except Invalid as invalid:
        return await _form_page(request, operator, values, status=422, errors=invalid.fields)
    await _catalogue(request).create(actor(operator), draft)
    return _done("done_plan_created")


@router.get("/plans/{plan_id}")
async def edit_plan(request: Request, plan_id: int, operator: Operator = owner) -> Response:
    row = await _catalogue(request).get(plan_id)
    if row is None:
        raise NotFound
    draft = row.draft
    values = {
        "name": draft.name,
        "name_en": draft.name_en,
        "duration_days": str(draft.duration_days),
        "price": f"{draft.price:f}",
        "currency": draft.currency,
        "price_stars": "" if draft.price_stars is None else str(draft.price_stars),
        "methods": [method.value for method in draft.methods],
        "audience": draft.audience.value,
        "product": draft.product.value,
        "active": "on" if draft.active else "",
    }
    return await _form_page(request, operator, values, plan_id=plan_id)


@router.post("/plans/{plan_id}")
async def update_plan(request: Request, plan_id: int, operator: Operator = owner) -> Response:
    values, methods = await _submitted(request)
    try:
        draft = parse_plan(values, methods, request.app.state.ctx.settings.currency)
        changed = await _catalogue(request).update(actor(operator), plan_id, draft)
    except Invalid as invalid:
        return await _form_page(request, operator, values, status=422, errors=invalid.fields, plan_id=plan_id)
    except LookupError:
        raise NotFound from None
    return _done("done_plan_saved" if changed else "done_nothing_changed")


@router.post("/plans/{plan_id}/move")
async def move_plan(request: Request, plan_id: int, operator: Operator = owner) -> Response:
    step = -1 if (await request.form()).get("step") == "up" else 1
    try:
        await _catalogue(request).move(actor(operator), plan_id, step)
    except LookupError:
        raise NotFound from None
    return _done("done_plan_moved")


@router.post("/plans/{plan_id}/visibility")
async def plan_visibility(request: Request, plan_id: int, operator: Operator = owner) -> Response:
    active = (await request.form()).get("active") == "1"
    try:
        await _catalogue(request).set_active(actor(operator), plan_id, active)
    except LookupError:
        raise NotFound from None
    return _done("done_plan_shown" if active else "done_plan_hidden")


@router.post("/plans/{plan_id}/delete")
async def delete_plan(request: Request, plan_id: int, operator: Operator = owner) -> Response:
    try:
        await _catalogue(request).delete(actor(operator), plan_id)
    except LookupError:
        raise NotFound from None
    except PlanInUse:
        rows = await _catalogue(request).rows()
        return render(request, operator, "plans.html", status=409, rows=rows, refused=plan_id)
    return _done("done_plan_deleted")
