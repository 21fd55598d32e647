"""/start: registration (with a ref_<id> deep link on the first visit), then onboarding, then the menu
(or the plans, for the `renew` deep link of the /sub page's Renew button); a `promo_CODE` link applies
the code, a `gift_CODE` link opens the gift."""

from __future__ import annotations

import contextlib
from html import escape

from aiogram import Bot, Router
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.filters import CommandObject, CommandStart
from aiogram.types import CallbackQuery, Message

from bot.callbacks import AcceptTerms
from bot.keyboards.menu import onboarding
from bot.routers.buy import plans_screen
from bot.routers.menu import send_menu
from bot.routers.promo import apply_code
from bot.routers.wallet import open_gift
from bot.texts import t
from bot.ui import alert, menu_keyboard
from shop.context import AppContext
from shop.customers.referrals import referrer_from
from shop.customers.users import Customer, accept_terms, get_customer, register
from shop.gifts.store import from_start as gift_from
from shop.promo.codes import from_start as promo_from
from shop.storefront.fields import OwnerSettings
from shop.subscription.deeplinks import RENEW_START

JOINED = {"creator", "administrator", "member"}


def onboarding_text(lang: str, owner: OwnerSettings) -> str:
    steps = []
    if owner.force_channel_subscription:
        steps.append(t(lang, "onboarding_channel"))
    if owner.terms_url or owner.privacy_url:
        steps.append(t(lang, "onboarding_terms"))
    return t(lang, "onboarding", shop=escape(owner.shop_name), steps="\n".join(steps))


def greeting(lang: str, owner: OwnerSettings, name: str, created: bool) -> str:
    """The owner's welcome text for a newcomer when set, else the catalogue's."""
    if created and (own := owner.text("welcome", lang)):
        return own
    return t(lang, "welcome" if created else "welcome_back", shop=escape(owner.shop_name), name=escape(name))


async def start(message: Message, command: CommandObject, bot: Bot, ctx: AppContext, lang: str) -> None:
    sender = message.from_user
    if sender is None:
        return
    customer, created = await register(
        ctx.sessions, sender.id, sender.username, sender.full_name, lang, referrer_from(command.args)
    )
    lang = customer.language
    owner = await ctx.storefront.current()
    if owner.onboarding_required and not customer.terms_accepted:
        await message.answer(onboarding_text(lang, owner), reply_markup=onboarding(lang, owner))
        return
    await message.answer(greeting(lang, owner, sender.full_name, created), reply_markup=menu_keyboard(lang))
    if (code := promo_from(command.args)) is not None:  # a promo link: the code, then the menu
        await message.answer(await apply_code(ctx, customer, lang, code))
    elif (gift := gift_from(command.args)) is not None:
        await message.answer(await open_gift(ctx, customer, lang, gift))
    if command.args == RENEW_START:  # from the Renew button of the /sub page: straight to the plans
        text, markup = await plans_screen(ctx, customer, lang)
        await message.answer(text, reply_markup=markup)
        return
    await send_menu(bot, ctx, customer, lang)


async def channel_joined(bot: Bot, chat: str, user_id: int) -> bool | None:
    """True/False from getChatMember; None when the bot cannot check (not an admin, no such chat)."""
    if not chat:
        return None
    try:
        member = await bot.get_chat_member(chat, user_id)
    except TelegramAPIError:
        return None
    return member.status in JOINED


async def accept(query: CallbackQuery, bot: Bot, ctx: AppContext, customer: Customer, lang: str) -> None:
    owner = await ctx.storefront.current()
    if owner.force_channel_subscription:
        joined = await channel_joined(bot, owner.channel_check_id, customer.id)
        if joined is None:
            await alert(query, t(lang, "channel_check_failed"))
            return
        if not joined:
            await alert(query, t(lang, "channel_not_joined"))
            return
    await accept_terms(ctx.sessions, customer.id)
    await query.answer()
    if query.message is not None:
        with contextlib.suppress(TelegramBadRequest):
            await bot.delete_message(customer.id, query.message.message_id)
    await bot.send_message(customer.id, t(lang, "onboarding_done"), reply_markup=menu_keyboard(lang))
    accepted = await get_customer(ctx.sessions, customer.id)
    if accepted is not None:
        await send_menu(bot, ctx, accepted, lang)


def build() -> Router:
    router = Router(name="start")
    router.message.register(start, CommandStart())
    router.callback_query.register(accept, AcceptTerms.filter())
    return router
