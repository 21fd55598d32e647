"""Operators and referral withdrawals: the list of open requests (from /admin) and approve/decline,
from a request's notice or the list; the first decision counts and the customer is told."""

from __future__ import annotations

import logging
from html import escape

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.types import CallbackQuery, Message

from bot.callbacks import Admin, AdminAction, WithdrawalDecision
from bot.keyboards import referral as keyboards
from bot.routers.admin import IsAdmin
from bot.routers.referral import rub
from bot.texts import t
from bot.ui import alert, show
from shop.context import AppContext
from shop.customers import referrals
from shop.customers.referrals import WithdrawalView
from shop.customers.users import Customer, get_customer
from shop.models import WithdrawalStatus

log = logging.getLogger(__name__)


async def open_list(query: CallbackQuery, ctx: AppContext, lang: str) -> None:
    items = await referrals.open_withdrawals(ctx.sessions)
    lines = [
        t(
            lang,
            "admin_withdrawal_line",
            id=item.id,
            amount=rub(item.amount),
            user=item.user_id,
            details=escape(item.details),
        )
        for item in items
    ]
    text = "\n".join([t(lang, "btn_withdrawals"), *lines]) if items else t(lang, "admin_withdrawals_empty")
    await show(query, text, keyboards.open_requests(lang, items))


def decision_text(language: str, request: WithdrawalView) -> str:
    """What the customer is told of a decision on their withdrawal (here and from the console)."""
    key = "wd_approved" if request.status is WithdrawalStatus.APPROVED else "wd_declined"
    return t(language, key, id=request.id, amount=rub(request.amount))


async def tell_customer(bot: Bot, ctx: AppContext, request: WithdrawalView) -> None:
    target = await get_customer(ctx.sessions, request.user_id)
    if target is None:
        return
    try:
        await bot.send_message(target.id, decision_text(target.language, request))
    except TelegramAPIError as error:  # blocked the bot: the decision stands all the same
        log.info("customer %s not told about withdrawal %s: %s", target.id, request.id, error)


async def decide(
    query: CallbackQuery,
    callback_data: WithdrawalDecision,
    bot: Bot,
    ctx: AppContext,
    customer: Customer,
    lang: str,
) -> None:
    try:
        decision = await referrals.decide_withdrawal(
            ctx.sessions, ctx.settings, customer.id, callback_data.withdrawal_id, callback_data.approve
        )
    except LookupError:
        await alert(query, t(lang, "admin_wd_unknown"))
        return
    await alert(query, t(lang, "admin_review_done" if decision.first else "admin_wd_repeat"))
    if decision.first:
        await tell_customer(bot, ctx, decision.withdrawal)
    if callback_data.listed:
        await open_list(query, ctx, lang)
    elif isinstance(query.message, Message) and query.message.reply_markup:  # decided: buttons go
        await query.message.edit_reply_markup(reply_markup=None)


async def list_button(query: CallbackQuery, ctx: AppContext, lang: str) -> None:
    await open_list(query, ctx, lang)
    await query.answer()


def build() -> Router:
    router = Router(name="withdrawals")
    router.callback_query.filter(IsAdmin())
    router.callback_query.register(list_button, Admin.filter(F.action == AdminAction.WITHDRAWALS))
    router.callback_query.register(decide, WithdrawalDecision.filter())
    return router
