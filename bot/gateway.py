"""The worker's side of Telegram: what the payment workflows tell customers and operators, and Stars
refunds. The messages are the bot's own (`bot.delivery`, `bot.keyboards`), so the customer gets one
kind of access card whether it came from a trial or a payment. Every message goes through the
worker's one limiter (`shop.messaging.telegram_send.paced`), as reminders and broadcasts do: a burst of
payments must not earn 429s, whose activity retries would repeat the messages already sent."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest

from bot.delivery import access_card, proxy_card
from bot.keyboards.admin import payment_notice
from shop.customers.users import Access
from shop.messaging.pacing import RateLimiter
from shop.messaging.telegram_send import SendOutcome, paced
from shop.proxy.access import ProxyAccess
from shop.settings import Settings

log = logging.getLogger(__name__)


class TelegramGateway:
    def __init__(self, bot: Bot, settings: Settings, limiter: RateLimiter) -> None:
        self.bot = bot
        self.settings = settings
        self.limiter = limiter

    async def _deliver(self, chat_id: int, what: str, calls: list[Callable[[], Awaitable[object]]]) -> bool:
        """False when the message can never go (blocked bot, unknown chat): nothing to retry."""
        for call in calls:
            outcome, reason = await paced(self.limiter, chat_id, call)
            if outcome is not SendOutcome.SENT:
                log.warning("%s to %s not sent: %s", what, chat_id, reason)
                return False
        return True

    async def send(self, chat_id: int, text: str) -> bool:
        return await self._deliver(chat_id, "message", [lambda: self.bot.send_message(chat_id, text)])

    async def send_access(self, chat_id: int, language: str, access: Access) -> bool:
        """The access card after a payment: link, copy button, QR code, instructions."""
        calls = access_card(self.bot, chat_id, language, access, self.settings)
        return await self._deliver(chat_id, "access card", calls)

    async def send_proxy(self, chat_id: int, language: str, proxy: ProxyAccess) -> bool:
        """The proxy's card after a payment: link, Connect, Copy."""
        text, markup = proxy_card(language, proxy, self.settings)
        call = lambda: self.bot.send_message(chat_id, text, reply_markup=markup)  # noqa: E731
        return await self._deliver(chat_id, "proxy card", [call])

    async def tell_operator(
        self, chat_id: int, language: str, text: str, payment_id: str, decide: bool = False
    ) -> bool:
        """A payment's message to an operator, with its workflow in Temporal (and approve/decline)."""
        markup = payment_notice(language, self.settings, payment_id, decide)
        call = lambda: self.bot.send_message(chat_id, text, reply_markup=markup)  # noqa: E731
        return await self._deliver(chat_id, f"payment {payment_id} notice", [call])

    async def refund_star_payment(self, user_id: int, charge_id: str) -> None:
        try:
            await self.bot.refund_star_payment(user_id=user_id, telegram_payment_charge_id=charge_id)
        except TelegramBadRequest as error:
            if "CHARGE_ALREADY_REFUNDED" not in str(error):  # a repeated refund already happened
                raise

    async def aclose(self) -> None:
        await self.bot.session.close()
