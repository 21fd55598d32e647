"""The referral program: the customer's link and numbers, and a withdrawal request (payout details
typed in, confirmed, then sent to the operators with approve/decline)."""

from __future__ import annotations

from decimal import Decimal
from html import escape

from aiogram import Bot, F, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from bot.callbacks import Nav, Screen, Withdraw, WithdrawStep
from bot.keyboards import referral as keyboards
from bot.notify import notify_admins
from bot.routers.menu import MENU_LABELS
from bot.texts import price, t
from bot.ui import alert, show
from shop.context import AppContext
from shop.customers import referrals
from shop.customers.referrals import DETAILS_MAX, DETAILS_MIN, WithdrawalRefused
from shop.customers.users import Customer
from shop.storefront.fields import OwnerSettings


class Payout(StatesGroup):
    details = State()
    confirm = State()


def rub(amount: Decimal) -> str:
    return price(amount, "RUB")


async def referral_screen(
    bot: Bot, ctx: AppContext, customer: Customer, lang: str
) -> tuple[str, InlineKeyboardMarkup]:
    owner = await ctx.storefront.current()
    info = await referrals.summary(ctx.sessions, customer.id)
    # Bot.me() asks getMe once and keeps the answer: not one call per screen (as the seed did).
    link = referrals.link((await bot.me()).username or "", customer.id)
    terms = [t(lang, "ref_terms_reward", percent=owner.referral_percent)]
    if owner.referral_discount_percent:
        terms.append(t(lang, "ref_terms_discount", percent=owner.referral_discount_percent))
    minimum = owner.referral_min_withdrawal
    can_withdraw = info.open_request is None and info.balance >= minimum
    if info.open_request is not None:
        withdrawal = t(lang, "ref_withdraw_open", amount=rub(info.open_request))
    elif can_withdraw:
        withdrawal = t(lang, "ref_withdraw_ready", minimum=rub(minimum))
    else:
        withdrawal = t(
            lang, "ref_withdraw_missing", minimum=rub(minimum), missing=rub(minimum - info.balance)
        )
    text = t(
        lang,
        "ref_screen",
        terms=" ".join(terms),
        link=escape(link),
        invited=info.invited,
        paying=info.paying,
        balance=rub(info.balance),
        earned=rub(info.earned),
        withdrawal=withdrawal,
    )
    return text, keyboards.screen(lang, link, can_withdraw)


async def open_screen(
    query: CallbackQuery, bot: Bot, ctx: AppContext, customer: Customer, lang: str, state: FSMContext
) -> None:
    await state.clear()
    if not (await ctx.storefront.current()).referrals_enabled:
        await alert(query, t(lang, "ref_disabled"))
        return
    text, markup = await referral_screen(bot, ctx, customer, lang)
    await show(query, text, markup)
    await query.answer()


def _refusal(lang: str, owner: OwnerSettings, key: str) -> str:
    return t(lang, key, minimum=rub(owner.referral_min_withdrawal), min=DETAILS_MIN, max=DETAILS_MAX)


async def start_withdrawal(
    query: CallbackQuery, ctx: AppContext, customer: Customer, lang: str, state: FSMContext
) -> None:
    owner = await ctx.storefront.current()
    if not owner.referrals_enabled:
        await alert(query, t(lang, "ref_disabled"))
        return
    info = await referrals.summary(ctx.sessions, customer.id)
    if info.open_request is not None or info.balance < owner.referral_min_withdrawal:
        key = "wd_already_open" if info.open_request is not None else "wd_below_minimum"
        await alert(query, _refusal(lang, owner, key))
        return
    await state.set_state(Payout.details)
    text = t(lang, "wd_ask_details", amount=rub(info.balance), min=DETAILS_MIN, max=DETAILS_MAX)
    await show(query, text, keyboards.cancel(lang))
    await query.answer()


async def details_typed(
    message: Message, ctx: AppContext, customer: Customer, lang: str, state: FSMContext
) -> None:
    typed = message.text or ""
    if typed.startswith("/") or typed in MENU_LABELS:
        await state.clear()  # another command or the menu: the customer left; that goes on as usual
        raise SkipHandler
    owner = await ctx.storefront.current()
    if not owner.referrals_enabled:
        await state.clear()
        await message.answer(t(lang, "ref_disabled"))
        return
    try:
        details = referrals.clean_details(message.text)
    except WithdrawalRefused as refused:  # a sticker, a photo, one word, a novel: ask again
        await message.answer(_refusal(lang, owner, refused.key))
        return
    info = await referrals.summary(ctx.sessions, customer.id)
    await state.update_data(details=details)
    await state.set_state(Payout.confirm)
    text = t(lang, "wd_confirm", amount=rub(info.balance), details=escape(details))
    await message.answer(text, reply_markup=keyboards.confirm(lang))


async def confirm(
    query: CallbackQuery, bot: Bot, ctx: AppContext, customer: Customer, lang: str, state: FSMContext
) -> None:
    details = (await state.get_data()).get("details")
    if await state.get_state() != Payout.confirm.state or not details:
        await alert(query, t(lang, "stale_button"))  # sent already (a double tap) or never typed
        return
    await state.clear()
    owner = await ctx.storefront.current()
    try:
        request = await referrals.request_withdrawal(ctx.sessions, owner, customer.id, details)
    except WithdrawalRefused as refused:
        await alert(query, _refusal(lang, owner, refused.key))
        return
    await query.answer()
    await show(query, t(lang, "wd_sent", id=request.id, amount=rub(request.amount)))
    await notify_admins(
        bot,
        ctx,
        "op_withdrawal",
        keyboard=lambda operator_lang: keyboards.decision(operator_lang, request.id),
        id=request.id,
        amount=rub(request.amount),
        name=escape(customer.mention),
        user=customer.id,
        details=escape(request.details),
    )


async def cancel_button(
    query: CallbackQuery, bot: Bot, ctx: AppContext, customer: Customer, lang: str, state: FSMContext
) -> None:
    await state.clear()
    await query.answer(t(lang, "wd_canceled"))
    if (await ctx.storefront.current()).referrals_enabled:
        text, markup = await referral_screen(bot, ctx, customer, lang)
        await show(query, text, markup)


async def cancel_command(
    message: Message, bot: Bot, ctx: AppContext, customer: Customer, lang: str, state: FSMContext
) -> None:
    await state.clear()
    await message.answer(t(lang, "wd_canceled"))
    if (await ctx.storefront.current()).referrals_enabled:
        text, markup = await referral_screen(bot, ctx, customer, lang)
        await message.answer(text, reply_markup=markup)


async def leave_flow(query: CallbackQuery, state: FSMContext) -> None:
    await state.clear()  # any other button ends the withdrawal; the button itself works as usual
    raise SkipHandler


def build() -> Router:
    """Included first: while a customer is in the withdrawal flow their messages come here, and any
    command, menu button or other button leaves the flow and goes on to its own router."""
    router = Router(name="referral")
    router.message.register(cancel_command, StateFilter(Payout), Command("cancel"))
    # Typing again replaces the details. Money messages (Stars) always go on to the payments router.
    paid = F.successful_payment | F.refunded_payment
    router.message.register(details_typed, StateFilter(Payout), ~paid)
    router.callback_query.register(leave_flow, StateFilter(Payout), ~Withdraw.filter())
    router.callback_query.register(open_screen, Nav.filter(F.to == Screen.REFERRAL))
    router.callback_query.register(start_withdrawal, Withdraw.filter(F.step == WithdrawStep.START))
    router.callback_query.register(confirm, Withdraw.filter(F.step == WithdrawStep.CONFIRM))
    router.callback_query.register(cancel_button, Withdraw.filter(F.step == WithdrawStep.CANCEL))
    return router
