"""Payments: the filtered list with totals, and a payment's page: its timeline, its workflow runs
(linked to the Temporal UI), and the operators' decisions (support and owners)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from console.auth import NotFound, actor, require_role
from console.render import render
from shop.context import AppContext
from shop.models import PaymentMethod, PaymentStatus
from shop.operators.actions import new_action_id
from shop.operators.forms import Invalid
from shop.operators.roles import Role
from shop.operators.signin import Operator
from shop.payments import decisions, listing
from workflows.operator import Resolution

router = APIRouter()
support = Depends(require_role(Role.SUPPORT))
FILTER_FIELDS = ("status", "method", "since", "until", "amount_min", "amount_max", "customer")


def _ctx(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx


@router.get("/payments", name="payments")
async def payments(request: Request, operator: Operator = support) -> Response:
    values = {key: request.query_params.get(key, "").strip() for key in FILTER_FIELDS}
    common: dict[str, Any] = {
        "values": values,
        "statuses": listing.STATUSES,
        "methods": [m.value for m in PaymentMethod],
        "query": {k: v for k, v in values.items() if v},
    }
    try:
        filters = listing.parse(values)
    except Invalid as error:
        return render(
            request, operator, "payments.html", status=422, errors=error.fields, page=None, **common
        )
    after = request.query_params.get("after", "")
    totals = request.query_params.get("totals") == "1"
    page = await listing.payments(_ctx(request).sessions, filters, after, totals=totals)
    return render(request, operator, "payments.html", page=page, after=after, **common)


async def _page(
    request: Request, operator: Operator, payment_id: str, status: int = 200, **extra: Any
) -> Response:
    found = await decisions.page(_ctx(request), payment_id)
    if found is None:
        raise NotFound
    p2p_waiting = (
        found.payment.method is PaymentMethod.P2P
        and found.payment.status is PaymentStatus.PENDING
        and found.payment.transfer_claimed_at is not None
    )
    return render(
        request,
        operator,
        "payment.html",
        status=status,
        p=found,
        p2p_waiting=p2p_waiting,
        resolutions=[r.value for r in Resolution],
        action_id=new_action_id(),
        values=extra.pop("values", {}),
        **extra,
    )


@router.get("/payments/{payment_id}")
async def payment(request: Request, payment_id: str, operator: Operator = support) -> Response:
    return await _page(request, operator, payment_id)


async def _form(request: Request) -> dict[str, str]:
    return {key: str(value) for key, value in (await request.form()).items()}


def _back(payment_id: str, done: str) -> Response:
    return RedirectResponse(f"/console/payments/{payment_id}?done={done}", status_code=303)


@router.post("/payments/{payment_id}/transfer")
async def transfer(request: Request, payment_id: str, operator: Operator = support) -> Response:
    form = await _form(request)
    approve = form.get("approve") == "1"
    desk = decisions.PaymentDesk(_ctx(request), actor(operator))
    try:
        decided = await desk.decide_transfer(payment_id, approve, form.get("reason", ""))
    except LookupError:
        raise NotFound from None
    if not decided:
        return _back(payment_id, "done_payment_already_decided")
    return _back(payment_id, "done_payment_approved" if approve else "done_payment_declined")


@router.post("/payments/{payment_id}/resolve")
async def resolve(request: Request, payment_id: str, operator: Operator = support) -> Response:
    form = await _form(request)
    desk = decisions.PaymentDesk(_ctx(request), actor(operator))
    try:
        decided = await desk.resolve(payment_id, form.get("resolution", ""), form.get("reason", ""))
    except Invalid as error:
        return await _page(request, operator, payment_id, 422, errors=error.fields, values=form)
    except LookupError:
        raise NotFound from None
    return _back(payment_id, "done_payment_resolved" if decided else "done_payment_already_decided")


@router.post("/payments/{payment_id}/card")
async def card(request: Request, payment_id: str, operator: Operator = support) -> Response:
    form = await _form(request)
    desk = decisions.PaymentDesk(_ctx(request), actor(operator))
    try:
        await desk.resend_card(payment_id, form.get("action_id", ""), form.get("reason", ""))
    except Invalid as error:
        return await _page(
            request, operator, payment_id, 422, errors=error.fields, values=form, refused="card"
        )
    except LookupError:
        raise NotFound from None
    return _back(payment_id, "done_payment_card")
