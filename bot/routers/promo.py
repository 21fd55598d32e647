"""Promo codes in the bot: `/promo CODE`, the `start=promo_CODE` link, and "Have a code?" on the
methods screen (the next message is the code, then the methods screen again with the new price).
A free-days code is activated at once; any other is kept for the next order, which fixes it in."""

from __future__ import annotations

from html import escape

from aiogram import F, Router
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from bot.callbacks import PromoAsk
from bot.routers.buy import _offered, methods_screen
from bot.texts import date, price, t
from shop.access.grants import provision_now
from shop.context import AppContext
from shop.customers.users import Customer
from shop.models import PromoKind, utcnow
from shop.payments.checkout import Checkout
from shop.payments.plans import PlanView, has_paid
from shop.promo import codes, uses
from shop.promo.codes import PromoRefused


class Entry(StatesGroup):
    code = State()


async def apply_code(ctx: AppContext, customer: Customer, lang: str, text: str) -> str:
    """What the customer is told about the code they sent; a refusal changes nothing."""
    try:
        code = await codes.find(ctx.sessions, text)
        if code is not None and code.kind is PromoKind.FREE_DAYS:
            done = await uses.activate(ctx.sessions, text, customer.id)
            await provision_now(ctx, customer.id, f"promo:{done.code}")
            return t(
                lang,
                "promo_free_days",
                code=escape(done.code),
                days=done.days,
                date=date(done.grant.expires_at),
            )
        terms = codes.check(code, utcnow(), await has_paid(ctx.sessions, customer.id))
        if (
            code is not None
            and code.once_per_customer
            and await uses.holds(ctx.sessions, code.id, customer.id)
        ):
            raise PromoRefused("promo_already_used")
    except PromoRefused as refused:
        return t(lang, refused.key)
    await codes.choose(ctx.sessions, customer.id, terms.id)
    key, values = codes.describe(terms)
    if "amount" in values:
        values["amount"] = price(terms.value, "RUB")
    return t(lang, key, code=escape(terms.code), **values)


async def promo_command(
    message: Message, command: CommandObject, ctx: AppContext, customer: Customer, lang: str
) -> None:
    if not command.args:
        await message.answer(t(lang, "promo_usage"))
        return
    await message.answer(await apply_code(ctx, customer, lang, command.args))


async def ask(query: CallbackQuery, callback_data: PromoAsk, state: FSMContext, lang: str) -> None:
    await state.set_state(Entry.code)
    await state.update_data(plan_id=callback_data.plan_id)
    await query.answer()
    if query.bot is not None:
        await query.bot.send_message(query.from_user.id, t(lang, "promo_ask"))


async def entered(
    message: Message, state: FSMContext, ctx: AppContext, checkout: Checkout, customer: Customer, lang: str
) -> None:
    plan_id = (await state.get_data()).get("plan_id")
    await state.clear()
    await message.answer(await apply_code(ctx, customer, lang, message.text or ""))
    plan = await _offered(ctx, customer, int(plan_id)) if plan_id else None
    if isinstance(plan, PlanView):  # back to the plan's methods, its price now with the code
        text, markup = await methods_screen(ctx, checkout, customer, lang, plan)
        await message.answer(text, reply_markup=markup)


def build() -> Router:
    router = Router(name="promo")
    router.message.register(promo_command, Command("promo"))
    router.callback_query.register(ask, PromoAsk.filter())
    router.message.register(entered, StateFilter(Entry.code), F.text, ~F.text.startswith("/"))
    return router
