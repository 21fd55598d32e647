"""Balances and gifts: an operator adjusts a customer's balance with a reason (audited; a
resubmitted form moves nothing more), sees their movements, and refunds an unclaimed gift to its
payer's balance. Owners only."""

from __future__ import annotations

import secrets
from decimal import Decimal, InvalidOperation
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from console.auth import actor, require_role
from console.render import render
from shop.balance import ledger
from shop.balance.ledger import BalanceShort
from shop.customers.users import get_customer
from shop.gifts import store as gifts
from shop.gifts.store import GiftRefused
from shop.operators.roles import Role
from shop.operators.signin import Operator

router = APIRouter()
owner = Depends(require_role(Role.OWNER))
REASON_MAX = 500


async def _page(
    request: Request, operator: Operator, values: dict[str, Any], status: int = 200, **extra: Any
) -> Response:
    sessions = request.app.state.ctx.sessions
    user = values.get("user_id", "")
    shown: dict[str, Any] = {}
    if str(user).isdigit() and await get_customer(sessions, int(user)) is not None:
        shown = {
            "customer": int(user),
            "balance": await ledger.balance(sessions, int(user)),
            "entries": await ledger.entries(sessions, int(user)),
        }
    values.setdefault("nonce", secrets.token_hex(8))
    return render(
        request, operator, "wallet.html", status=status, values=values, gifts=await gifts.recent(sessions),
        **shown, **extra,
    )  # fmt: skip


@router.get("/balance")
async def balance_page(request: Request, user: str = "", operator: Operator = owner) -> Response:
    return await _page(request, operator, {"user_id": user})


@router.post("/balance")
async def adjust(request: Request, operator: Operator = owner) -> Response:
    form = await request.form()
    values = {key: value.strip() for key, value in form.items() if isinstance(value, str)}
    errors: dict[str, str] = {}
    sessions = request.app.state.ctx.sessions
    user = values.get("user_id", "")
    if not user.isdigit() or await get_customer(sessions, int(user)) is None:
        errors["user_id"] = "no_customer"
    amount = Decimal(0)
    try:
        amount = Decimal(values.get("amount", "").replace(",", "."))
        if not amount.is_finite() or amount == 0 or abs(amount) > ledger.MAX_AMOUNT:
            errors["amount"] = "out_of_range"
        elif amount != amount.quantize(ledger.CENT):
            errors["amount"] = "decimal_places"
    except InvalidOperation:
        errors["amount"] = "required" if not values.get("amount") else "not_number"
    reason = values.get("reason", "")
    if not reason:
        errors["reason"] = "required"
    elif len(reason) > REASON_MAX:
        errors["reason"] = "too_long"
    nonce = values.get("nonce", "")
    if not nonce.isalnum() or len(nonce) > 32:
        errors["amount"] = "invalid"
    if not errors:
        try:
            await ledger.adjust(sessions, actor(operator), int(user), amount, reason, nonce)
        except BalanceShort:
            errors["amount"] = "balance_short"
    if errors:
        return await _page(request, operator, values, status=422, errors=errors)
    return RedirectResponse(f"/console/balance?user={user}&done=done_balance_adjusted", status_code=303)


@router.post("/balance/gifts/{code}/refund")
async def refund_gift(request: Request, code: str, operator: Operator = owner) -> Response:
    reason = str((await request.form()).get("reason", "")).strip()[:REASON_MAX]
    sessions = request.app.state.ctx.sessions
    try:
        if not reason:
            raise GiftRefused("gift_reason_required")
        await gifts.refund(sessions, actor(operator), code, reason)
    except GiftRefused as refused:
        return await _page(request, operator, {}, status=409, refused=refused.key, refused_code=code)
    return RedirectResponse("/console/balance?done=done_gift_refunded", status_code=303)
