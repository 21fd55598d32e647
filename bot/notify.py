"""Messages to the operators (ADMIN_IDS), each in the operator's own language."""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import InlineKeyboardMarkup

from bot.texts import DEFAULT_LANGUAGE, t
from shop.context import AppContext
from shop.users import get_customer

log = logging.getLogger(__name__)


async def notify_admins(
    bot: Bot, ctx: AppContext, key: str, markup: InlineKeyboardMarkup | None = None, **values: object
) -> None:
    for admin_id in ctx.settings.admin_ids:
        admin = await get_customer(ctx.sessions, admin_id)
        lang = admin.language if admin else DEFAULT_LANGUAGE
        try:
            await bot.send_message(admin_id, t(lang, key, **values), reply_markup=markup)
        except TelegramAPIError as error:  # an operator who never opened the bot must not break the flow
            log.warning("could not notify operator %s: %s", admin_id, error)
