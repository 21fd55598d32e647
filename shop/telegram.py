"""The worker's side of Telegram: what the payment workflows tell customers and operators, and Stars
refunds. The messages are the bot's own (`bot.delivery`, `bot.keyboards`), so the customer gets one
kind of access card whether it came from a trial or a payment."""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError

from bot.delivery import send_access
from bot.keyboards.admin import payment_notice
from shop.settings import Settings
from shop.users import Access

log = logging.getLogger(__name__)
NEVER_DELIVERABLE = (TelegramForbiddenError, TelegramBadRequest)  # blocked bot, unknown chat


class TelegramGateway:
    def __init__(self, bot: Bot, settings: Settings) -> None:
        self.bot = bot
        self.settings = settings

    async def send(self, chat_id: int, text: str) -> bool:
        """False when the message can never go (blocked bot, unknown chat): nothing to retry."""
        try:
            await self.bot.send_message(chat_id, text)
        except NEVER_DELIVERABLE as error:
            log.warning("message to %s not sent: %s", chat_id, error)
            return False
        return True

    async def send_access(self, chat_id: int, language: str, access: Access) -> bool:
        """The access card after a payment: link, copy button, QR code, instructions."""
        try:
            await send_access(self.bot, chat_id, language, access, self.settings)
        except NEVER_DELIVERABLE as error:
            log.warning("access card to %s not sent: %s", chat_id, error)
            return False
        return True

    async def tell_operator(
        self, chat_id: int, language: str, text: str, payment_id: str, decide: bool = False
    ) -> bool:
        """A payment's message to an operator, with its workflow in Temporal (and approve/decline)."""
        markup = payment_notice(language, self.settings, payment_id, decide)
        try:
            await self.bot.send_message(chat_id, text, reply_markup=markup)
        except NEVER_DELIVERABLE as error:
            log.warning("operator %s not told about %s: %s", chat_id, payment_id, error)
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
