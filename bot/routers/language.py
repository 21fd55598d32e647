"""Switching the interface language (Russian by default, English for English-speaking Telegram)."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.types import CallbackQuery

from bot.callbacks import Nav, Screen, SetLanguage
from bot.keyboards.help import languages
from bot.routers.menu import menu_screen
from bot.texts import CATALOGUES, t
from bot.ui import alert, menu_keyboard, show
from shop.context import AppContext
from shop.customers.users import Customer, get_customer, set_language


async def choose(query: CallbackQuery, lang: str) -> None:
    await show(query, t(lang, "language_title"), languages(lang))
    await query.answer()


async def chosen(
    query: CallbackQuery, callback_data: SetLanguage, bot: Bot, ctx: AppContext, customer: Customer, lang: str
) -> None:
    code = callback_data.code
    if code not in CATALOGUES:
        await alert(query, t(lang, "stale_button"))
        return
    await set_language(ctx.sessions, customer.id, code)
    updated = await get_customer(ctx.sessions, customer.id) or customer
    await query.answer()
    text, markup = await menu_screen(ctx, updated, code)
    await show(query, text, markup)
    # The persistent button's label changes with the language, so it is sent again.
    await bot.send_message(customer.id, t(code, "language_set"), reply_markup=menu_keyboard(code))


def build() -> Router:
    router = Router(name="language")
    router.callback_query.register(choose, Nav.filter(F.to == Screen.LANGUAGE))
    router.callback_query.register(chosen, SetLanguage.filter())
    return router
