"""Instructions per platform (store links, one-tap import), About and Support."""

from __future__ import annotations

from html import escape

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from bot.callbacks import HowTo, Nav, Screen
from bot.keyboards import help as keyboards
from bot.texts import t
from bot.ui import show
from shop.context import AppContext
from shop.customers.users import Customer, access_of


async def help_command(message: Message, lang: str) -> None:
    await message.answer(t(lang, "help_title"), reply_markup=keyboards.platforms(lang))


async def help_button(query: CallbackQuery, lang: str) -> None:
    await show(query, t(lang, "help_title"), keyboards.platforms(lang))
    await query.answer()


async def platform(
    query: CallbackQuery, callback_data: HowTo, ctx: AppContext, customer: Customer, lang: str
) -> None:
    access = await access_of(ctx.sessions, customer.id)
    import_base = f"{ctx.settings.base_url}/import/{access.token}" if access.active and access.token else None
    own = (await ctx.storefront.current()).text(f"instructions_{callback_data.platform.value}", lang)
    text = own or t(lang, f"help_{callback_data.platform.value}")
    await show(query, text, keyboards.platform(lang, callback_data.platform, import_base))
    await query.answer()


async def about(query: CallbackQuery, ctx: AppContext, lang: str) -> None:
    owner = await ctx.storefront.current()
    text = owner.text("about", lang) or t(lang, "about_text", shop=escape(owner.shop_name))
    await show(query, text, keyboards.about(lang, owner))
    await query.answer()


async def support_command(message: Message, ctx: AppContext, lang: str) -> None:
    text, markup = await _support(ctx, lang)
    await message.answer(text, reply_markup=markup)


async def support(query: CallbackQuery, ctx: AppContext, lang: str) -> None:
    text, markup = await _support(ctx, lang)
    await show(query, text, markup)
    await query.answer()


async def _support(ctx: AppContext, lang: str) -> tuple[str, InlineKeyboardMarkup]:
    owner = await ctx.storefront.current()
    url, desk = owner.support_url, ctx.settings.shop_bot_is_desk
    text = owner.text("support", lang) or t(lang, "support_text" if url or desk else "support_missing")
    return text, keyboards.support(lang, url, desk)


def build() -> Router:
    router = Router(name="help")
    router.message.register(help_command, Command("help"))
    router.callback_query.register(help_button, Nav.filter(F.to == Screen.HELP))
    router.callback_query.register(platform, HowTo.filter())
    router.callback_query.register(about, Nav.filter(F.to == Screen.ABOUT))
    router.message.register(support_command, Command("support", "paysupport"))
    router.callback_query.register(support, Nav.filter(F.to == Screen.SUPPORT))
    return router
