"""Small helpers every router uses: answer or edit in place, the persistent menu keyboard, the QR."""

from __future__ import annotations

import contextlib
import functools
import io
from collections.abc import Awaitable, Callable

import qrcode
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
)

from bot.texts import t
from shop.context import AppContext
from shop.customers.users import Customer

ScreenBuilder = Callable[[AppContext, Customer, str], Awaitable[tuple[str, InlineKeyboardMarkup]]]


def menu_keyboard(lang: str) -> ReplyKeyboardMarkup:
    """The persistent "main menu" button under the input field."""
    return ReplyKeyboardMarkup(
        keyboard=[[KeyboardButton(text=t(lang, "btn_menu"))]], resize_keyboard=True, is_persistent=True
    )


async def show(query: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """Replaces the screen the button was on; a photo or a vanished message gets a new message."""
    message = query.message
    if isinstance(message, Message) and message.text is not None:
        try:
            await message.edit_text(text, reply_markup=markup)
        except TelegramBadRequest as error:
            if "message is not modified" not in error.message:
                raise
        return
    if query.bot is not None:
        await query.bot.send_message(query.from_user.id, text, reply_markup=markup)


def screen_handlers(
    build: ScreenBuilder,
) -> tuple[Callable[..., Awaitable[None]], Callable[..., Awaitable[None]]]:
    """The same screen as an answer to a command and as an in-place edit from a button."""

    async def on_command(message: Message, ctx: AppContext, customer: Customer, lang: str) -> None:
        text, markup = await build(ctx, customer, lang)
        await message.answer(text, reply_markup=markup)

    async def on_button(query: CallbackQuery, ctx: AppContext, customer: Customer, lang: str) -> None:
        text, markup = await build(ctx, customer, lang)
        await show(query, text, markup)
        await query.answer()

    return on_command, on_button


async def alert(query: CallbackQuery, text: str) -> None:
    with contextlib.suppress(TelegramBadRequest):  # answered already, or too old: nothing to say
        await query.answer(text, show_alert=True)


# A card's PNG (~0.7 KB) is the same every time for its link: renewals and retried sends show the
# same link again.
QR_CACHED = 1024
# Any of the eight masks makes a valid code every reader decodes (tests/test_qr.py reads it back);
# qrcode would otherwise draw all eight to pick the one with the fewest blotches, three quarters of
# the ~8 ms of CPU a new card's code took.
QR_MASK = 0


@functools.lru_cache(maxsize=QR_CACHED)
def qr_png(data: str) -> bytes:
    code = qrcode.QRCode(box_size=8, border=2, mask_pattern=QR_MASK)
    code.add_data(data)
    code.make(fit=True)
    buffer = io.BytesIO()
    code.make_image().save(buffer)
    return buffer.getvalue()
