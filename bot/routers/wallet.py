"""The balance (`/balance`): its movements, top-ups through any payment method, moving the referral
balance over; gifts (`/gift`): a plan bought for someone else, and opening one (`start=gift_CODE`).
Orders go on through the buy router's Pay button like any other."""

from __future__ import annotations

from decimal import Decimal
from html import escape

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardMarkup

from bot.callbacks import GiftMethod, GiftPlan, MoveReferral, Nav, Screen, TopUp, TopUpMethod
from bot.keyboards import buy as buy_keyboards
from bot.keyboards import wallet as keyboards
from bot.routers.buy import open_order, order_text
from bot.texts import date, price, t
from bot.ui import alert, screen_handlers, show
from shop.access.grants import provision_now
from shop.balance import ledger
from shop.balance.referral import move_referral_balance
from shop.context import AppContext
from shop.customers import operations, referrals
from shop.customers.users import Customer, get_customer
from shop.gifts import store as gifts
from shop.gifts.store import GiftRefused
from shop.models import PaymentPurpose
from shop.payments.checkout import Checkout
from shop.payments.plans import PlanView, active_plan, active_plans

HISTORY = 5


def rub(amount: Decimal) -> str:
    return price(amount, "RUB")


async def balance_screen(ctx: AppContext, customer: Customer, lang: str) -> tuple[str, InlineKeyboardMarkup]:
    now = await ledger.balance(ctx.sessions, customer.id)
    recent = await ledger.entries(ctx.sessions, customer.id, HISTORY)
    lines = [
        t(
            lang,
            "balance_line",
            date=date(e.created_at),
            amount=f"{'+' if e.amount > 0 else ''}{rub(e.amount)}",
            kind=t(lang, f"balance_kind_{e.kind.value}"),
        )
        for e in recent
    ]
    history = t(lang, "balance_history", lines="\n".join(lines)) if lines else ""
    referral = (await referrals.summary(ctx.sessions, customer.id)).balance
    return t(lang, "balance_screen", balance=rub(now), history=history), keyboards.balance(lang, referral)


balance_command, balance_button = screen_handlers(balance_screen)


async def gift_screen(ctx: AppContext, customer: Customer, lang: str) -> tuple[str, InlineKeyboardMarkup]:
    items = await active_plans(ctx.sessions)
    if not items:
        return t(lang, "no_plans"), keyboards.gift_plans(lang, [])
    return t(lang, "gift_plans"), keyboards.gift_plans(lang, items)


gift_command, gift_button = screen_handlers(gift_screen)


async def topup(
    query: CallbackQuery, callback_data: TopUp, ctx: AppContext, checkout: Checkout, lang: str
) -> None:
    methods = await checkout.topup_methods()
    owner = await ctx.storefront.current()
    text = (
        t(lang, "topup_methods", amount=rub(Decimal(callback_data.amount)))
        if methods
        else t(lang, "no_topup_methods")
    )
    await show(query, text, keyboards.topup_methods(lang, callback_data.amount, methods, owner))
    await query.answer()


async def topup_method(
    query: CallbackQuery,
    callback_data: TopUpMethod,
    ctx: AppContext,
    checkout: Checkout,
    customer: Customer,
    lang: str,
) -> None:
    method, amount = callback_data.method, Decimal(callback_data.amount)
    opened = await open_order(query, checkout, customer, lang, None, method, PaymentPurpose.TOPUP, amount)
    if opened is None:
        return
    owner = await ctx.storefront.current()
    label = escape(buy_keyboards.method_label(lang, method, owner))
    text = t(lang, "order_topup", price=price(opened.amount, opened.currency), method=label)
    await show(query, text, buy_keyboards.order(lang, opened.payment_id))
    await query.answer()


async def _plan(query: CallbackQuery, lang: str, ctx: AppContext, plan_id: int) -> PlanView | None:
    """The plan behind a gift button; a withdrawn one is the customer's "out of date" alert."""
    plan = await active_plan(ctx.sessions, plan_id)
    if plan is None:
        await alert(query, t(lang, "stale_button"))
    return plan


async def gift_plan(
    query: CallbackQuery,
    callback_data: GiftPlan,
    ctx: AppContext,
    checkout: Checkout,
    customer: Customer,
    lang: str,
) -> None:
    plan = await _plan(query, lang, ctx, callback_data.plan_id)
    if plan is None:
        return
    methods = await checkout.methods(plan, customer.id)
    owner = await ctx.storefront.current()
    text = t(
        lang,
        "choose_method",
        plan=escape(plan.title(lang)),
        days=plan.days,
        price=price(plan.price, plan.currency),
    )
    await show(
        query, f"{text}\n{t(lang, 'gift_note')}", keyboards.gift_methods(lang, plan.id, methods, owner)
    )
    await query.answer()


async def gift_method(
    query: CallbackQuery,
    callback_data: GiftMethod,
    ctx: AppContext,
    checkout: Checkout,
    customer: Customer,
    lang: str,
) -> None:
    plan = await _plan(query, lang, ctx, callback_data.plan_id)
    if plan is None:
        return
    opened = await open_order(
        query, checkout, customer, lang, plan.id, callback_data.method, PaymentPurpose.GIFT
    )
    if opened is None:
        return
    text = await order_text(ctx, lang, plan, opened, callback_data.method)
    await show(query, f"{text}\n{t(lang, 'gift_note')}", buy_keyboards.order(lang, opened.payment_id))
    await query.answer()


async def move_referral(query: CallbackQuery, ctx: AppContext, customer: Customer, lang: str) -> None:
    moved = await move_referral_balance(ctx.sessions, customer.id)
    if not moved:
        await alert(query, t(lang, "referral_nothing_to_move"))
        return
    await query.answer(t(lang, "referral_moved", amount=rub(moved)), show_alert=True)
    text, markup = await balance_screen(ctx, customer, lang)
    await show(query, text, markup)


async def open_gift(ctx: AppContext, customer: Customer, lang: str, code: str) -> str:
    """`start=gift_CODE`: the days for the first to open it (the payer is told); what to say."""
    try:
        claimed = await gifts.claim(ctx.sessions, code, customer.id)
    except GiftRefused as refused:
        return t(lang, refused.key)
    # Also when opened again: a crash between the claim and these starts is healed by the repeat.
    await provision_now(ctx, customer.id, f"gift:{claimed.gift.code}")
    await _tell_payer(ctx, customer, claimed.gift.payer_id, claimed.gift.code)
    if not claimed.first:
        return t(lang, "gift_received_again", date=date(claimed.expires_at))
    return t(lang, "gift_received", days=claimed.gift.days, date=date(claimed.expires_at))


async def _tell_payer(ctx: AppContext, opener: Customer, payer_id: int, code: str) -> None:
    """The payer hears their gift was opened: sent by a worker at the bot's pace, once per gift."""
    payer = await get_customer(ctx.sessions, payer_id)
    if payer is None:
        return
    name = escape(opener.full_name or str(opener.id))
    text = t(payer.language, "gift_opened", code=code, name=name)
    await operations.tell(ctx, payer.id, text, f"gift-opened-{code}")


def build() -> Router:
    router = Router(name="wallet")
    router.message.register(balance_command, Command("balance"))
    router.callback_query.register(balance_button, Nav.filter(F.to == Screen.BALANCE))
    router.message.register(gift_command, Command("gift"))
    router.callback_query.register(gift_button, Nav.filter(F.to == Screen.GIFT))
    router.callback_query.register(topup, TopUp.filter())
    router.callback_query.register(topup_method, TopUpMethod.filter())
    router.callback_query.register(gift_plan, GiftPlan.filter())
    router.callback_query.register(gift_method, GiftMethod.filter())
    router.callback_query.register(move_referral, MoveReferral.filter())
    return router
