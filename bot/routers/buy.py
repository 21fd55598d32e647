"""Buying and renewing: plans, methods, the order whose pay button carries our payment ID, then the
invoice, link or requisites `shop.payments.checkout.Checkout` gives for it. The access card comes later, from
the payment's workflow once it is delivered."""

from __future__ import annotations

from collections.abc import Awaitable
from decimal import Decimal
from html import escape
from typing import TypeVar

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, LabeledPrice

from bot.callbacks import Nav, Pay, PickMethod, PickPlan, Renew, Screen, Transferred
from bot.keyboards import buy as keyboards
from bot.texts import date, price, t
from bot.ui import alert, screen_handlers, show
from shop.context import AppContext
from shop.customers.referrals import discounted
from shop.customers.users import Customer, access_of
from shop.models import PaymentMethod, PaymentPurpose, Product
from shop.payments.checkout import (
    BalanceTooLow,
    Checkout,
    DiscountSpent,
    OpenedPayment,
    PaymentClosed,
    PaymentNotFound,
    PaymentNotReady,
    PaymentOffer,
    PromoLost,
)
from shop.payments.plans import PlanView, active_plan, active_plans, has_paid
from shop.payments.pricing import CheckoutError
from shop.payments.stars import CURRENCY as STARS
from shop.promo import codes as promo_codes
from shop.proxy.access import proxy_on_sale

T = TypeVar("T")
REFUSALS: dict[type[Exception], str] = {
    BalanceTooLow: "pay_balance_short",
    PromoLost: "pay_promo_lost",
    DiscountSpent: "pay_discount_spent",
    PaymentNotFound: "payment_not_found",
    PaymentClosed: "payment_closed",
    PaymentNotReady: "pay_try_later",
}


async def plans_screen(ctx: AppContext, customer: Customer, lang: str) -> tuple[str, InlineKeyboardMarkup]:
    items = await active_plans(ctx.sessions, paid_before=await has_paid(ctx.sessions, customer.id))
    if not items:
        return t(lang, "no_plans"), keyboards.plans(lang, [])
    access = await access_of(ctx.sessions, customer.id)
    text = t(lang, "plans_title")
    if access.active:
        text = t(lang, "plans_extend_notice", date=date(access.expires_at)) + "\n\n" + text
    return text, keyboards.plans(lang, items)


buy_command, buy_button = screen_handlers(plans_screen)


async def renew(query: CallbackQuery, ctx: AppContext, customer: Customer, lang: str) -> None:
    """The reminder's button: the plans come as a new message, so the reminder stays readable."""
    text, markup = await plans_screen(ctx, customer, lang)
    if query.bot is not None:
        await query.bot.send_message(customer.id, text, reply_markup=markup)
    await query.answer()


def amount_text(lang: str, full: Decimal, amount: Decimal, currency: str, discount: int) -> str:
    """The price to pay, with the full one struck through when an invitee's discount applies."""
    if not discount:
        return price(amount, currency)
    return t(
        lang,
        "discount_first_purchase",
        full=price(full, currency),
        price=price(amount, currency),
        percent=discount,
    )


async def _offered(ctx: AppContext, customer: Customer, plan_id: int) -> PlanView | str:
    """The plan behind a button, if it is still shown and still offered to this customer; else the
    text key of the refusal."""
    plan = await active_plan(ctx.sessions, plan_id)
    if plan is None or not plan.offered_to(await has_paid(ctx.sessions, customer.id)):
        return "stale_button"
    if plan.product is Product.PROXY and not await proxy_on_sale(ctx.sessions):
        return "proxy_unavailable"
    return plan


async def methods_screen(
    ctx: AppContext, checkout: Checkout, customer: Customer, lang: str, plan: PlanView
) -> tuple[str, InlineKeyboardMarkup]:
    """The plan with its price for this customer (referral discount, chosen code) and the methods."""
    available = await checkout.methods(plan, customer.id)
    owner = await ctx.storefront.current()
    if not available:
        return t(lang, "no_methods"), keyboards.methods(lang, plan.id, [], owner)
    discount = await checkout.discount(customer.id)
    amount = discounted(plan.price, discount)
    shown = amount_text(lang, plan.price, amount, plan.currency, discount)
    terms = await checkout.promo_terms(customer.id, plan.id)
    text = t(lang, "choose_method", plan=escape(plan.title(lang)), days=plan.days, price=shown)
    if terms is not None:
        off = amount - terms.price(amount)
        text += "\n" + promo_line(lang, terms.code, off, terms.bonus_days, plan.currency)
    ask = await promo_codes.any_for_purchases(ctx.sessions)
    return text, keyboards.methods(lang, plan.id, available, owner, ask_code=ask)


def promo_line(lang: str, code: str, off: Decimal, bonus_days: int, currency: str) -> str:
    if bonus_days:
        return t(lang, "promo_bonus_in_order", code=escape(code), days=bonus_days)
    return t(lang, "promo_in_order", code=escape(code), discount=price(off, currency))


async def pick_plan(
    query: CallbackQuery,
    callback_data: PickPlan,
    ctx: AppContext,
    checkout: Checkout,
    customer: Customer,
    lang: str,
) -> None:
    plan = await _offered(ctx, customer, callback_data.plan_id)
    if isinstance(plan, str):
        await alert(query, t(lang, plan))
        return
    text, markup = await methods_screen(ctx, checkout, customer, lang, plan)
    await show(query, text, markup)
    await query.answer()


async def pick_method(
    query: CallbackQuery,
    callback_data: PickMethod,
    ctx: AppContext,
    checkout: Checkout,
    customer: Customer,
    lang: str,
) -> None:
    plan = await _offered(ctx, customer, callback_data.plan_id)
    if isinstance(plan, str):
        await alert(query, t(lang, plan))
        return
    opened = await open_order(query, checkout, customer, lang, plan.id, callback_data.method)
    if opened is None:
        return
    text = await order_text(ctx, lang, plan, opened, callback_data.method)
    await show(query, text, keyboards.order(lang, opened.payment_id))
    await query.answer()


async def open_order(
    query: CallbackQuery,
    checkout: Checkout,
    customer: Customer,
    lang: str,
    plan_id: int | None,
    method: PaymentMethod,
    purpose: PaymentPurpose = PaymentPurpose.SUBSCRIPTION,
    topup: Decimal | None = None,
) -> OpenedPayment | None:
    """Mints the order; a refusal (a method gone, a code that cannot apply) is the customer's alert."""
    try:
        return await checkout.open_payment(customer.id, plan_id, method, purpose, topup)
    except CheckoutError as refused:  # the chosen code cannot apply: said, and nothing minted
        await alert(query, t(lang, refused.key))
    except LookupError:  # the method was switched off since the screen was shown
        await alert(query, t(lang, "stale_button"))
    return None


async def order_text(
    ctx: AppContext, lang: str, plan: PlanView, opened: OpenedPayment, method: PaymentMethod
) -> str:
    owner = await ctx.storefront.current()
    stars = owner.stars_price(plan.price_stars, plan.price)
    full = Decimal(stars or 0) if opened.currency == STARS else plan.price
    text = t(
        lang,
        "order",
        plan=escape(plan.title(lang)),
        days=plan.days,
        price=amount_text(lang, full, opened.amount, opened.currency, opened.discount_percent),
        method=escape(keyboards.method_label(lang, method, owner)),
    )
    if opened.promo_code:
        text += "\n" + promo_line(lang, opened.promo_code, opened.promo_discount, opened.bonus_days, "RUB")
    return text


async def pay(
    query: CallbackQuery,
    callback_data: Pay,
    bot: Bot,
    checkout: Checkout,
    customer: Customer,
    lang: str,
) -> None:
    offer = await _checkout_step(query, lang, checkout.pay(customer.id, callback_data.payment_id))
    if offer is not None:
        await present(query, bot, customer, lang, offer)


async def _checkout_step(query: CallbackQuery, lang: str, step: Awaitable[T]) -> T | None:
    """Runs one checkout call; its refusals become the customer's alerts (None then)."""
    try:
        result = await step
    except tuple(REFUSALS) as refused:
        await alert(query, t(lang, REFUSALS[type(refused)]))
        return None
    await query.answer()
    return result


async def present(query: CallbackQuery, bot: Bot, customer: Customer, lang: str, offer: PaymentOffer) -> None:
    amount = price(offer.amount, offer.currency)
    if offer.paid:
        await show(query, t(lang, "pay_from_balance_done"))
    elif offer.stars is not None:
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
    query: CallbackQuery, callback_data: Transferred, checkout: Checkout, customer: Customer, lang: str
) -> None:
    """P2P "I have paid": the workflow tells the operators (once, however many taps)."""
    if await _checkout_step(query, lang, checkout.confirm_transfer(customer.id, callback_data.payment_id)):
        await show(query, t(lang, "transfer_submitted"))


def build() -> Router:
    router = Router(name="buy")
    router.message.register(buy_command, Command("buy"))
    router.callback_query.register(buy_button, Nav.filter(F.to == Screen.BUY))
    router.callback_query.register(renew, Renew.filter())
    router.callback_query.register(pick_plan, PickPlan.filter())
    router.callback_query.register(pick_method, PickMethod.filter())
    router.callback_query.register(pay, Pay.filter())
    router.callback_query.register(transferred, Transferred.filter())
    return router
