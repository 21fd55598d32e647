"""The main menu: from the persistent button, /menu, or any "back to menu" button."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from bot.callbacks import Nav, Screen
from bot.delivery import access_status
from bot.keyboards.menu import main_menu
from bot.texts import CATALOGUES, t
from bot.ui import show
from shop.access.trial import trial_refusal
from shop.context import AppContext
from shop.customers.users import Customer, access_of
from shop.proxy.access import proxy_on_sale

MENU_LABELS = {catalogue["btn_menu"] for catalogue in CATALOGUES.values()}


async def menu_screen(ctx: AppContext, customer: Customer, lang: str) -> tuple[str, InlineKeyboardMarkup]:
    access = await access_of(ctx.sessions, customer.id)
    owner = await ctx.storefront.current()
    trial = await trial_refusal(ctx.sessions, owner, customer.id) is None
    status = access_status(lang, access)
    markup = main_menu(
        lang,
        active=access.active,
        trial=trial,
        referral=owner.referrals_enabled,
        admin=ctx.settings.is_admin(customer.id),
        proxy=await proxy_on_sale(ctx.sessions),
    )
    return t(lang, "menu_title", status=status), markup


async def send_menu(bot: Bot, ctx: AppContext, customer: Customer, lang: str) -> None:
    text, markup = await menu_screen(ctx, customer, lang)
    await bot.send_message(customer.id, text, reply_markup=markup)


async def menu_command(message: Message, bot: Bot, ctx: AppContext, customer: Customer, lang: str) -> None:
    await send_menu(bot, ctx, customer, lang)


async def menu_button(query: CallbackQuery, ctx: AppContext, customer: Customer, lang: str) -> None:
    text, markup = await menu_screen(ctx, customer, lang)
    await show(query, text, markup)
    await query.answer()


def build() -> Router:
    router = Router(name="menu")
    router.message.register(menu_command, Command("menu"))
    router.message.register(menu_command, F.text.in_(MENU_LABELS))
    router.callback_query.register(menu_button, Nav.filter(F.to == Screen.MENU))
    return router
