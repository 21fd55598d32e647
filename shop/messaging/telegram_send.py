"""Sending one message to a customer at Telegram's pace, with an outcome instead of an exception."""

from __future__ import annotations

import enum
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError, TelegramRetryAfter
from pydantic import BaseModel

from shop.messaging.pacing import RateLimiter

log = logging.getLogger(__name__)
MAX_RETRY_AFTER_ROUNDS = 10


class BotMessage(BaseModel):
    """One Bot API call to a customer or operator, as data: composed where the facts are (a payment's
    activity), sent by a one-call activity on the bot's paced task queue (`telegram_queue`)."""

    chat_id: int
    text: str  # the message, or the caption of the photo
    markup: dict[str, Any] | None = None  # an InlineKeyboardMarkup as JSON
    qr_link: str | None = None  # set: a photo of this link's QR code, captioned with `text`
    what: str = "message"  # for the log when it cannot go


class Throttled(Exception):
    """Not sent: Telegram asked this bot to wait `retry_after` seconds (or still does)."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"Telegram: retry after {retry_after:.1f} s")
        self.retry_after = retry_after


class SendOutcome(enum.StrEnum):
    SENT = "sent"
    BLOCKED = "blocked"  # the user blocked the bot or deleted their account: do not retry
    FAILED = "failed"  # Telegram refused this message for good (e.g. chat not found)
    WITHDRAWN = "withdrawn"  # not sent: no longer wanted by the time it could go (a stopped broadcast)


async def paced(
    limiter: RateLimiter,
    chat_id: int,
    send: Callable[[], Awaitable[object]],
    wanted: Callable[[], Awaitable[bool]] | None = None,
    requeue: bool = False,
) -> tuple[SendOutcome, str | None]:
    """Runs `send` (one Bot API call to `chat_id`) once it may. A 429 means "not sent": this
    process's sends pause as told, then the same call is tried again, here, or with `requeue` by the
    activity's retry: `Throttled` is raised at once, also while a pause is on, so the retry goes back
    through the bot's paced queue and takes its turn in the global pace instead of piling up here and
    bursting out when the pause ends. `wanted`, asked before each try (a wait may be long), withdraws
    it.

    Network errors propagate, so the calling activity is retried by Temporal.
    """
    for _ in range(MAX_RETRY_AFTER_ROUNDS):
        if requeue and (left := limiter.paused_for()) > 0:
            raise Throttled(left)
        await limiter.acquire()
        if wanted is not None and not await wanted():
            return SendOutcome.WITHDRAWN, None
        try:
            await send()
            return SendOutcome.SENT, None
        except TelegramRetryAfter as error:
            limiter.pause(error.retry_after)
            if requeue:
                raise Throttled(error.retry_after) from None
        except TelegramForbiddenError as error:
            return SendOutcome.BLOCKED, error.message
        except TelegramBadRequest as error:
            log.warning("telegram refused a message to %s: %s", chat_id, error.message)
            return SendOutcome.FAILED, error.message
    raise RuntimeError(f"telegram kept answering 429 for chat {chat_id}")


async def send_paced(
    bot: Bot, limiter: RateLimiter, chat_id: int, text: str, reply_markup: Any = None, requeue: bool = False
) -> tuple[SendOutcome, str | None]:
    send = lambda: bot.send_message(chat_id, text, reply_markup=reply_markup)  # noqa: E731
    return await paced(limiter, chat_id, send, requeue=requeue)


async def copy_paced(
    bot: Bot,
    limiter: RateLimiter,
    chat_id: int,
    from_chat_id: int,
    message_id: int,
    reply_markup: Any = None,
    wanted: Callable[[], Awaitable[bool]] | None = None,
    requeue: bool = False,
) -> tuple[SendOutcome, str | None]:
    """A copy of an existing message (any content: text, photo, video, document) with `reply_markup`."""
    return await paced(
        limiter,
        chat_id,
        lambda: bot.copy_message(chat_id, from_chat_id, message_id, reply_markup=reply_markup),
        wanted,
        requeue,
    )
