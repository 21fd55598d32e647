"""Messages to the operators (ADMIN_IDS), each in the operator's own language."""

from __future__ import annotations

import logging
from collections.abc import Callable

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import InlineKeyboardMarkup

from bot.texts import t
from shop.context import AppContext
from shop.customers.users import operator_languages

log = logging.getLogger(__name__)


async def notify_admins(
    bot: Bot,
    ctx: AppContext,
    key: str,
    keyboard: Callable[[str], InlineKeyboardMarkup] | None = None,
    **values: object,
) -> None:
    """`keyboard` builds the buttons in each operator's language."""
    for admin_id, lang in (await operator_languages(ctx.sessions, ctx.settings)).items():
        markup = keyboard(lang) if keyboard else None
        try:
            await bot.send_message(admin_id, t(lang, key, **values), reply_markup=markup)
        except TelegramAPIError as error:  # an operator who never opened the bot must not break the flow
            log.warning("could not notify operator %s: %s", admin_id, error)
