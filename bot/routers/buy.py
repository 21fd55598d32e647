"""Buying and renewing: plans, methods, the order whose pay button carries our payment ID, then the
invoice, link or requisites the payments area (`Checkout`) gives for it."""

from __future__ import annotations

from collections.abc import Awaitable
from html import escape
from typing import TypeVar

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, LabeledPrice

from bot.callbacks import Nav, Pay, PickMethod, PickPlan, Screen, Transferred
from bot.keyboards import buy as keyboards
from bot.notify import notify_admins
from bot.texts import date, price, t
from bot.ui import alert, screen_handlers, show
from shop.checkout import Checkout, PaymentClosed, PaymentNotFound, PaymentOffer
from shop.context import AppContext
from shop.plans import active_plan, active_plans
from shop.users import Customer, access_of

T = TypeVar("T")


async def plans_screen(ctx: AppContext, customer: Customer, lang: str) -> tuple[str, InlineKeyboardMarkup]:
    items = await active_plans(ctx.sessions)
    if not items:
        return t(lang, "no_plans"), keyboards.plans(lang, [])
    access = await access_of(ctx.sessions, customer.id)
    text = t(lang, "plans_title")
    if access.active:
        text = t(lang, "plans_extend_notice", date=date(access.expires_at)) + "\n\n" + text
    return text, keyboards.plans(lang, items)


buy_command, buy_button = screen_handlers(plans_screen)


async def pick_plan(
    query: CallbackQuery, callback_data: PickPlan, ctx: AppContext, checkout: Checkout | None, lang: str
) -> None:
    plan = await active_plan(ctx.sessions, callback_data.plan_id)
    if plan is None:
        await alert(query, t(lang, "stale_button"))
        return
    available = checkout.methods() if checkout else []
    if not available:
        await show(query, t(lang, "no_methods"), keyboards.methods(lang, plan.id, []))
        await query.answer()
        return
    text = t(
        lang, "choose_method", plan=escape(plan.name), days=plan.days, price=price(plan.price, plan.currency)
    )
    await show(query, text, keyboards.methods(lang, plan.id, available))
    await query.answer()


async def pick_method(
    query: CallbackQuery,
    callback_data: PickMethod,
    ctx: AppContext,
    checkout: Checkout | None,
    customer: Customer,
    lang: str,
) -> None:
    plan = await active_plan(ctx.sessions, callback_data.plan_id)
    if plan is None or checkout is None or callback_data.method not in checkout.methods():
        await alert(query, t(lang, "stale_button"))
        return
    payment_id = await checkout.open_payment(customer.id, plan.id, callback_data.method)
    text = t(
        lang,
        "order",
        plan=escape(plan.name),
        days=plan.days,
        price=price(plan.price, plan.currency),
        method=t(lang, f"method_{callback_data.method.value}"),
    )
    await show(query, text, keyboards.order(lang, payment_id))
    await query.answer()


async def pay(
    query: CallbackQuery,
    callback_data: Pay,
    bot: Bot,
    checkout: Checkout | None,
    customer: Customer,
    lang: str,
) -> None:
    paying = checkout.pay(customer.id, callback_data.payment_id) if checkout else None
    offer = await _checkout_step(query, lang, paying)
    if offer is not None:
        await present(query, bot, customer, lang, offer)


async def _checkout_step(query: CallbackQuery, lang: str, step: Awaitable[T] | None) -> T | None:
    """Runs one call into the payments area; its refusals become the customer's alerts."""
    if step is None:  # no payments area configured
        await alert(query, t(lang, "stale_button"))
        return None
    try:
        result = await step
    except PaymentNotFound:
        await alert(query, t(lang, "payment_not_found"))
        return None
    except PaymentClosed:
        await alert(query, t(lang, "payment_closed"))
        return None
    await query.answer()
    return result


async def present(query: CallbackQuery, bot: Bot, customer: Customer, lang: str, offer: PaymentOffer) -> None:
    amount = price(offer.amount, offer.currency)
    if offer.stars is not None:
        await bot.send_invoice(
            customer.id,
            title=offer.title[:32],
            description=t(lang, "invoice_description", days=offer.days),
            payload=offer.payment_id,
            currency="XTR",
            prices=[LabeledPrice(label=t(lang, "invoice_label", days=offer.days), amount=offer.stars)],
        )
    elif offer.url is not None:
        text = t(lang, "pay_by_link", plan=escape(offer.title), price=amount)
        await show(query, text, keyboards.pay_link(lang, offer.url))
    elif offer.requisites is not None:
        text = t(lang, "pay_p2p", price=amount, requisites=escape(offer.requisites))
        await show(query, text, keyboards.transfer(lang, offer.payment_id))


async def transferred(
    query: CallbackQuery,
    callback_data: Transferred,
    bot: Bot,
    ctx: AppContext,
    checkout: Checkout | None,
    customer: Customer,
    lang: str,
) -> None:
    confirm = checkout.confirm_transfer(customer.id, callback_data.payment_id) if checkout else None
    submitted = await _checkout_step(query, lang, confirm)
    if submitted is None:
        return
    await show(query, t(lang, "transfer_submitted"))
    if not submitted:  # a second tap: the operators already know
        return
    await notify_admins(
        bot,
        ctx,
        "admin_transfer",
        user=escape(customer.mention),
        id=customer.id,
        payment=callback_data.payment_id,
    )


def build() -> Router:
    router = Router(name="buy")
    router.message.register(buy_command, Command("buy"))
    router.callback_query.register(buy_button, Nav.filter(F.to == Screen.BUY))
    router.callback_query.register(pick_plan, PickPlan.filter())
    router.callback_query.register(pick_method, PickMethod.filter())
    router.callback_query.register(pay, Pay.filter())
    router.callback_query.register(transferred, Transferred.filter())
    return router
