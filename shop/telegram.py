"""The worker's side of Telegram: sending customer/operator messages and refunding Stars."""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

log = logging.getLogger(__name__)
Buttons = list[tuple[str, str]]  # (label, callback data)


class TelegramGateway:
    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def send(self, chat_id: int, text: str, buttons: Buttons | None = None) -> bool:
        """False when the message can never go (blocked bot, unknown chat): nothing to retry."""
        markup = None
        if buttons:
            row = [InlineKeyboardButton(text=label, callback_data=data) for label, data in buttons]
            markup = InlineKeyboardMarkup(inline_keyboard=[row])
        try:
            await self.bot.send_message(chat_id, text, reply_markup=markup)
        except (TelegramForbiddenError, TelegramBadRequest) as error:
            log.warning("message to %s not sent: %s", chat_id, error)
            return False
        return True

    async def refund_star_payment(self, user_id: int, charge_id: str) -> None:
        try:
            await self.bot.refund_star_payment(user_id=user_id, telegram_payment_charge_id=charge_id)
        except TelegramBadRequest as error:
            if "CHARGE_ALREADY_REFUNDED" not in str(error):  # a repeated refund already happened
                raise

    async def aclose(self) -> None:
        await self.bot.session.close()
