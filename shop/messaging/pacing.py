"""Pacing for Telegram sends.

Telegram's limit is per bot, so the pace that counts is the bot's, over every process: each message a
worker sends is one activity on the bot's own task queue (`telegram_queue`), which every worker polls
with `max_task_queue_activities_per_second` = TELEGRAM_MESSAGES_PER_SECOND; the Temporal server hands
out that many tasks per second for the whole queue, however many workers poll it. Within a process a
`RateLimiter` smooths the calls and shares a pause when Telegram answers 429 (`retry_after`) anyway
(the bot's own replies count against the same limit), so a batch slows down instead of dropping or
hammering."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable


class RateLimiter:
    """Evenly spaced permits: `acquire()` returns when the caller may send."""

    def __init__(
        self,
        per_second: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if per_second <= 0:
            raise ValueError("per_second must be positive")
        self.interval = 1.0 / per_second
        self._clock = clock
        self._sleep = sleep
        self._next = 0.0
        self._paused_until = 0.0
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        async with self._lock:
            now = self._clock()
            slot = max(now, self._next)
            self._next = slot + self.interval
        if slot > now:
            await self._sleep(slot - now)

    def paused_for(self) -> float:
        """Seconds left of a pause Telegram asked for (0: none)."""
        return max(0.0, self._paused_until - self._clock())

    def pause(self, seconds: float) -> None:
        """Telegram asked every sender to wait: nobody gets a permit before then."""
        self._paused_until = max(self._paused_until, self._clock() + seconds)
        self._next = max(self._next, self._paused_until)


def telegram_queue(task_queue: str) -> str:
    """The bot's paced task queue beside the shop's task queue: one shop has one bot and one queue,
    so every process of the shop (and only they) share the pace; workflows derive it from their own
    queue, which keeps it deterministic and needs no setting."""
    return f"{task_queue}-telegram"
