"""Whatever no feature handled: unknown commands, free text, stale or forged buttons. Included last."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from bot.callbacks import Screen
from bot.keyboards.menu import button
from bot.texts import t
from bot.ui import alert


async def unknown_command(message: Message, lang: str) -> None:
    await message.answer(t(lang, "unknown_command"))


async def payment_service_message(message: Message) -> None:
    """Handled by the payments area's router, included before this one; nothing to say here."""


async def not_understood(message: Message, lang: str) -> None:
    await message.answer(
        t(lang, "not_understood"),
        reply_markup=InlineKeyboardMarkup(inline_keyboard=[[button(lang, "btn_menu", Screen.MENU)]]),
    )


async def stale_button(query: CallbackQuery, lang: str) -> None:
    await alert(query, t(lang, "stale_button"))


def build() -> Router:
    router = Router(name="fallback")
    router.message.register(unknown_command, F.text.startswith("/"))
    router.message.register(payment_service_message, F.successful_payment | F.refunded_payment)
    router.message.register(not_understood)
    router.callback_query.register(stale_button)
    return router
