"""Sending one message to a customer at Telegram's pace, with an outcome instead of an exception."""

from __future__ import annotations

import enum
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError, TelegramRetryAfter

from shop.messaging.pacing import RateLimiter

log = logging.getLogger(__name__)
MAX_RETRY_AFTER_ROUNDS = 10


class SendOutcome(enum.StrEnum):
    SENT = "sent"
    BLOCKED = "blocked"  # the user blocked the bot or deleted their account: do not retry
    FAILED = "failed"  # Telegram refused this message for good (e.g. chat not found)


async def paced(
    limiter: RateLimiter, chat_id: int, send: Callable[[], Awaitable[object]]
) -> tuple[SendOutcome, str | None]:
    """Runs `send` (one Bot API call to `chat_id`) once it may. A 429 means "not sent": wait as told
    and try the same call again.

    Network errors propagate, so the calling activity is retried by Temporal.
    """
    for _ in range(MAX_RETRY_AFTER_ROUNDS):
        await limiter.acquire()
        try:
            await send()
            return SendOutcome.SENT, None
        except TelegramRetryAfter as error:
            limiter.pause(error.retry_after)
        except TelegramForbiddenError as error:
            return SendOutcome.BLOCKED, error.message
        except TelegramBadRequest as error:
            log.warning("telegram refused a message to %s: %s", chat_id, error.message)
            return SendOutcome.FAILED, error.message
    raise RuntimeError(f"telegram kept answering 429 for chat {chat_id}")


async def send_paced(
    bot: Bot, limiter: RateLimiter, chat_id: int, text: str, reply_markup: Any = None
) -> tuple[SendOutcome, str | None]:
    return await paced(limiter, chat_id, lambda: bot.send_message(chat_id, text, reply_markup=reply_markup))


async def copy_paced(
    bot: Bot, limiter: RateLimiter, chat_id: int, from_chat_id: int, message_id: int, reply_markup: Any = None
) -> tuple[SendOutcome, str | None]:
    """A copy of an existing message (any content: text, photo, video, document) with `reply_markup`."""
    return await paced(
        limiter,
        chat_id,
        lambda: bot.copy_message(chat_id, from_chat_id, message_id, reply_markup=reply_markup),
    )
