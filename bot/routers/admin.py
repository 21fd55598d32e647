"""Operator tools (ADMIN_IDS only): stats, find a customer, add or remove days, ban (the panels
follow), payments to review, and approving or declining P2P transfers (from the workflow's notice
or from that list). The broadcast has a router of its own."""

from __future__ import annotations

import logging
from html import escape

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, CommandObject, Filter
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message, User

from bot.callbacks import Admin, AdminAction, ListedReview, Nav, Review, Screen
from bot.keyboards import admin as keyboards
from bot.texts import date, price, t
from bot.ui import alert, show
from shop.balance import ledger as balance
from shop.context import AppContext
from shop.customers import admin as operations
from shop.customers.admin import AccessSync, PanelSync
from shop.customers.stats import ReviewItem, shop_stats, waiting_review
from shop.customers.users import Customer, access_of, get_customer
from shop.operators.audit import Actor
from shop.payments.checkout import Checkout, PaymentNotFound
from shop.proxy.access import proxy_access

log = logging.getLogger(__name__)


class IsAdmin(Filter):
    async def __call__(self, event: Message | CallbackQuery, ctx: AppContext, event_from_user: User) -> bool:
        return ctx.settings.is_admin(event_from_user.id)


def _money(totals: dict[str, object]) -> str:
    return ", ".join(price(amount, currency) for currency, amount in totals.items()) or "0"  # type: ignore[arg-type]


async def admin_command(message: Message, lang: str) -> None:
    await message.answer(t(lang, "admin_title"), reply_markup=keyboards.menu(lang))


async def admin_button(query: CallbackQuery, lang: str) -> None:
    await show(query, t(lang, "admin_title"), keyboards.menu(lang))
    await query.answer()


async def stats(query: CallbackQuery, ctx: AppContext, lang: str) -> None:
    numbers = await shop_stats(ctx.sessions)
    text = t(
        lang,
        "admin_stats",
        users=numbers.users,
        banned=numbers.banned,
        active=numbers.active_subscriptions,
        today=_money(dict(numbers.revenue_today)),
        month=_money(dict(numbers.revenue_30_days)),
        review=numbers.waiting_review,
    )
    await show(query, text, keyboards.menu(lang))
    await query.answer()


async def find_hint(query: CallbackQuery, lang: str) -> None:
    await show(query, t(lang, "admin_find_hint"), keyboards.menu(lang))
    await query.answer()


async def card(ctx: AppContext, found: Customer, lang: str) -> tuple[str, InlineKeyboardMarkup]:
    access = await access_of(ctx.sessions, found.id)
    proxy = await proxy_access(ctx.sessions, found.id)
    proxy_line = (
        t(lang, "admin_card_proxy", state=t(lang, f"proxy_state_{'active' if proxy.active else 'ended'}"),
          date=date(proxy.expires_at))
        if proxy.ever
        else ""
    )  # fmt: skip
    yes, no = t(lang, "yes"), t(lang, "no")
    text = t(
        lang,
        "admin_card",
        name=escape(found.full_name),
        username=escape(f"@{found.username}") if found.username else "",
        id=found.id,
        lang_code=found.language,
        access=f"{access.state.value}, {date(access.expires_at)}",
        proxy=proxy_line,
        balance=price(await balance.balance(ctx.sessions, found.id), "RUB"),
        trial=yes if found.trial_used else no,
        banned=yes if found.banned else no,
    )
    return text, keyboards.customer(lang, found.id, found.banned)


async def find(message: Message, command: CommandObject, ctx: AppContext, lang: str) -> None:
    query = (command.args or "").strip()
    found = await operations.find_customer(ctx.sessions, query) if query else None
    if found is None:
        await message.answer(t(lang, "admin_not_found", query=escape(query or "—")))
        return
    text, markup = await card(ctx, found, lang)
    await message.answer(text, reply_markup=markup)


async def adjust(
    query: CallbackQuery, callback_data: Admin, bot: Bot, ctx: AppContext, customer: Customer, lang: str
) -> None:
    try:
        outcome = await operations.adjust_days(
            ctx, customer.id, callback_data.user_id, callback_data.days, callback_data.nonce
        )
    except (ValueError, LookupError):
        await alert(query, t(lang, "stale_button"))
        return
    key = "admin_days_done" if outcome.first else "admin_days_repeat"
    await alert(query, t(lang, key, date=date(outcome.expires_at)))
    target = await get_customer(ctx.sessions, callback_data.user_id)
    if target is None:
        return
    if outcome.first:
        notice = "days_added" if callback_data.days > 0 else "days_removed"
        try:
            await bot.send_message(
                target.id,
                t(target.language, notice, days=abs(callback_data.days), date=date(outcome.expires_at)),
            )
        except TelegramAPIError as error:
            log.info("customer %s not told about the adjustment: %s", target.id, error)
        text, markup = await card(ctx, target, lang)
        await show(query, text, markup)


async def ban(
    query: CallbackQuery,
    callback_data: Admin,
    ctx: AppContext,
    access_sync: AccessSync,
    customer: Customer,
    lang: str,
) -> None:
    banned = callback_data.action is AdminAction.BAN
    changed = await operations.set_banned(
        ctx.sessions, callback_data.user_id, banned, Actor(customer.id, "bot")
    )
    target = await get_customer(ctx.sessions, callback_data.user_id)
    if target is None:
        await alert(query, t(lang, "stale_button"))
        return
    key = "admin_banned" if banned else "admin_unbanned"
    # The panels follow: the customer's clients are disabled, or enabled again, now or by the scan.
    if changed and await access_sync.sync(target.id) is PanelSync.DEFERRED:
        await alert(query, t(lang, f"{key}_later", minutes=ctx.settings.expiry_scan_minutes))
    else:
        await query.answer(t(lang, key))
    text, markup = await card(ctx, target, lang)
    await show(query, text, markup)


async def reviews(query: CallbackQuery, ctx: AppContext, lang: str) -> None:
    """Money taken but not delivered (a mismatch, a failed delivery), for a human, in Temporal; and
    P2P transfers waiting for a decision, with Approve / Decline."""
    await show_reviews(query, ctx, lang)
    await query.answer()


def _reason(lang: str, item: ReviewItem) -> str:
    if item.awaiting_decision:
        return t(lang, "admin_transfer_reason")
    return f" · {escape(item.reason)}" if item.reason else ""


async def show_reviews(query: CallbackQuery, ctx: AppContext, lang: str, decided: str = "") -> None:
    # A decided transfer stays pending for the moment its workflow takes to record the outcome.
    items = [item for item in await waiting_review(ctx.sessions) if item.payment_id != decided]
    lines = [
        t(
            lang,
            "admin_review_line",
            id=item.payment_id,
            method=item.method.value,
            amount=price(item.amount, item.currency),
            user=item.user_id,
            reason=_reason(lang, item),
        )
        for item in items
    ]
    text = "\n".join([t(lang, "btn_reviews"), *lines]) if items else t(lang, "admin_reviews_empty")
    await show(query, text, keyboards.reviews(lang, items, ctx.settings))


async def _decision(
    query: CallbackQuery, checkout: Checkout, operator_id: int, payment_id: str, approve: bool, lang: str
) -> bool:
    """The P2P decision through the payment's workflow (its `decide_transfer` update), answered to
    the operator; True when theirs was the one that counts."""
    try:
        decided = await checkout.review(operator_id, payment_id, approve)
    except PaymentNotFound:
        await alert(query, t(lang, "payment_not_found"))
        return False
    await alert(query, t(lang, "admin_review_done" if decided else "admin_review_repeat"))
    return decided


async def decide(
    query: CallbackQuery,
    callback_data: Review,
    ctx: AppContext,
    checkout: Checkout,
    customer: Customer,
    lang: str,
) -> None:
    """Approve or decline a P2P transfer, from the workflow's message to the operators."""
    decided = await _decision(
        query, checkout, customer.id, callback_data.payment_id, callback_data.approve, lang
    )
    if decided and isinstance(query.message, Message):  # the decision buttons have done their job
        markup = keyboards.payment_notice(lang, ctx.settings, callback_data.payment_id, decide=False)
        await query.message.edit_reply_markup(reply_markup=markup)


async def decide_listed(
    query: CallbackQuery,
    callback_data: ListedReview,
    ctx: AppContext,
    checkout: Checkout,
    customer: Customer,
    lang: str,
) -> None:
    """The same decision from "Payments to review"; the list is shown again, without it."""
    await _decision(query, checkout, customer.id, callback_data.payment_id, callback_data.approve, lang)
    await show_reviews(query, ctx, lang, decided=callback_data.payment_id)


def build() -> Router:
    router = Router(name="admin")
    router.message.filter(IsAdmin())
    router.callback_query.filter(IsAdmin())
    router.message.register(admin_command, Command("admin"))
    router.callback_query.register(admin_button, Nav.filter(F.to == Screen.ADMIN))
    router.callback_query.register(stats, Admin.filter(F.action == AdminAction.STATS))
    router.callback_query.register(find_hint, Admin.filter(F.action == AdminAction.FIND))
    router.message.register(find, Command("find"))
    router.callback_query.register(adjust, Admin.filter(F.action == AdminAction.DAYS))
    router.callback_query.register(ban, Admin.filter(F.action.in_({AdminAction.BAN, AdminAction.UNBAN})))
    router.callback_query.register(reviews, Admin.filter(F.action == AdminAction.REVIEWS))
    router.callback_query.register(decide, Review.filter())
    router.callback_query.register(decide_listed, ListedReview.filter())
    return router
