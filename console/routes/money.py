"""Money (owners): revenue by day, method and plan, refunds, referral rewards and withdrawals for a
period; the open withdrawal requests, decided here as in the bot (the same service: the first
decision counts, the customer is told); and the CSV exports, streamed."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse

from bot.routers.withdrawals import decision_text
from console.auth import NotFound, require_role
from console.render import render
from shop.context import AppContext
from shop.customers import operations, referrals
from shop.customers.referrals import WithdrawalView
from shop.customers.users import get_customer
from shop.models import utcnow
from shop.money.exports import EXPORTS, csv_rows
from shop.money.report import PeriodRefused, money_report, period_of
from shop.operators.roles import Role
from shop.operators.signin import Operator

router = APIRouter()
owner = Depends(require_role(Role.OWNER))
OPEN_SHOWN = 100


@router.get("/money", name="money")
async def money(request: Request, first: str = "", last: str = "", operator: Operator = owner) -> Response:
    ctx: AppContext = request.app.state.ctx
    today = utcnow().date()
    errors: dict[str, str] = {}
    try:
        period = period_of(first, last, today)
    except PeriodRefused as refused:
        errors = {"first": refused.code}
        period = period_of("", "", today)
    report = await money_report(ctx.sessions, period)
    waiting = await referrals.open_withdrawals(ctx.sessions, OPEN_SHOWN)
    return render(
        request,
        operator,
        "money.html",
        status=422 if errors else 200,
        report=report,
        waiting=waiting,
        first=first or period.first.isoformat(),
        last=last or period.last.isoformat(),
        errors=errors,
        exports=list(EXPORTS),
    )


def notice_key(withdrawal_id: int, created_at: datetime) -> str:
    """One notice per withdrawal, also across a restored database that numbers withdrawals again
    (Temporal keeps workflow ids longer than the shop's rows): the id and its creation time."""
    return f"withdrawal-{withdrawal_id}-{created_at.timestamp():.6f}"


async def _tell(ctx: AppContext, decided: WithdrawalView) -> None:
    """The customer hears of the decision as when it is taken in the bot, sent by a worker in the
    bot's pace; the decision stands all the same when that cannot be started now."""
    customer = await get_customer(ctx.sessions, decided.user_id)
    if customer is not None:
        text = decision_text(customer.language, decided)
        await operations.tell(ctx, customer.id, text, notice_key(decided.id, decided.created_at))


@router.post("/money/withdrawals/{withdrawal_id}")
async def decide(
    request: Request, withdrawal_id: int, decision: str = Form(""), operator: Operator = owner
) -> Response:
    if decision not in ("approve", "decline"):
        return RedirectResponse("/console/money?done=done_withdrawal_bad", status_code=303)
    ctx: AppContext = request.app.state.ctx
    try:
        decided = await referrals.decide_withdrawal(
            ctx.sessions, ctx.settings, operator.id, withdrawal_id, decision == "approve", via="console"
        )
    except LookupError:
        raise NotFound() from None
    if decided.first:
        await _tell(ctx, decided.withdrawal)
    done = f"done_withdrawal_{decision}" if decided.first else "done_withdrawal_repeat"
    return RedirectResponse(f"/console/money?done={done}", status_code=303)


@router.get("/money/export/{kind}.csv")
async def export(request: Request, kind: str, operator: Operator = owner) -> Response:
    if kind not in EXPORTS:
        raise NotFound()
    ctx: AppContext = request.app.state.ctx
    name = f"vpnshop-{kind}-{utcnow():%Y%m%d-%H%M%S}.csv"
    return StreamingResponse(
        csv_rows(ctx.sessions, kind),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )
