"""The worker's side of Telegram: the messages workflows send to customers and operators, and Stars
refunds. The messages are the bot's own (`bot.delivery`, `bot.keyboards`), so the customer gets one
kind of access card whether it came from a trial or a payment. Every call goes through the worker's
limiter (`shop.messaging.telegram_send.paced`), which waits out a 429's `retry_after` and tries the
same call again; the bot's global pace comes from the task queue the sending activities run on
(`shop.messaging.pacing.telegram_queue`)."""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest

from bot.delivery import access_card_messages, bot_call
from shop.customers.users import Access
from shop.messaging.pacing import RateLimiter
from shop.messaging.telegram_send import BotMessage, SendOutcome, paced
from shop.settings import Settings

log = logging.getLogger(__name__)


class TelegramGateway:
    def __init__(self, bot: Bot, settings: Settings, limiter: RateLimiter) -> None:
        self.bot = bot
        self.settings = settings
        self.limiter = limiter

    async def deliver(self, message: BotMessage, requeue: bool = False) -> bool:
        """False when the message can never go (blocked bot, unknown chat): nothing to retry.
        `requeue`: a 429 propagates (see `paced`)."""
        call = bot_call(self.bot, message)
        outcome, reason = await paced(self.limiter, message.chat_id, call, requeue=requeue)
        if outcome is not SendOutcome.SENT:
            log.warning("%s to %s not sent: %s", message.what, message.chat_id, reason)
            return False
        return True

    async def send(self, chat_id: int, text: str, requeue: bool = False) -> bool:
        return await self.deliver(BotMessage(chat_id=chat_id, text=text), requeue)

    async def send_access(self, chat_id: int, language: str, access: Access) -> bool:
        """The access card outside a payment run (an operator's re-send): its messages in order."""
        for message in access_card_messages(chat_id, language, access, self.settings):
            if not await self.deliver(message):
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
