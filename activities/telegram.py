"""The one-message activities of the bot's paced task queue (`shop.messaging.pacing.telegram_queue`):
each sends exactly one Bot API call, so the queue's rate limit, which Temporal counts in activities,
is the bot's rate in messages. Messages composed elsewhere (a payment's notices) come as data."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from datetime import timedelta

from temporalio import activity
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory

from bot.gateway import TelegramGateway
from shop.messaging.telegram_send import BotMessage, Throttled


@contextlib.contextmanager
def retried_after_429() -> Iterator[None]:
    """A 429 fails the attempt with Telegram's `retry_after` as the retry's delay: the retry goes
    back through the paced queue and takes its turn in the bot's pace."""
    try:
        yield
    except Throttled as throttled:
        raise ApplicationError(
            str(throttled),
            type="TelegramRetryAfter",
            next_retry_delay=timedelta(seconds=max(1, math.ceil(throttled.retry_after))),
            category=ApplicationErrorCategory.BENIGN,  # expected now and then: no traceback in the log
        ) from None


class TelegramActivities:
    def __init__(self, telegram: TelegramGateway | None) -> None:
        self.telegram = telegram

    @activity.defn
    async def deliver(self, message: BotMessage) -> bool:
        """False when it can never go (blocked, unknown chat). At-least-once: a worker that dies
        between Telegram's answer and the activity's completion sends it again on the retry."""
        if self.telegram is None:
            raise ApplicationError(
                "the worker has no TELEGRAM_BOT_TOKEN", type="BotMissing", non_retryable=True
            )
        with retried_after_429():
            return await self.telegram.deliver(message, requeue=True)
