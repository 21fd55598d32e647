"""Telegram sends from workflows: on the bot's paced task queue, one message per activity.

Every worker polls that queue with `max_task_queue_activities_per_second` set to the bot's rate, so
the Temporal server holds the pace for the whole shop however many workers run. Runs started before
the queue existed (saved histories) keep their old commands: `paced_queue()` is None for them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.payments import NotifyInput, PaymentActivities
    from activities.telegram import TelegramActivities
    from shop.messaging.pacing import telegram_queue
    from shop.messaging.telegram_send import BotMessage

T = TypeVar("T")

TELEGRAM_QUEUE_PATCH = "telegram-queue"
# Lean payment runs begun before it composed their messages in a (remote) activity.
LOCAL_COMPOSE_PATCH = "compose-local"
# Sends one run keeps scheduled at once: enough to fill the bot's pace, few enough that a batch goes
# out roughly in order (a Stop or a block lands before the end of the list) and that a long batch
# does not crowd the queue for other workflows' messages.
IN_FLIGHT = 32
SEND_TIMEOUT = timedelta(seconds=30)  # one call; a 429 wait inside it is a few seconds
# Rate-limited tasks wait in the queue before they start, so a deadline counts from scheduling.
SEND_DEADLINE = timedelta(hours=1)


def paced_queue(compact: bool = False) -> str | None:
    """The bot's paced queue, or None (the workflow's own queue) in a run begun before it.
    `compact`: a payment run begun with its compact-run patch, which holds this one unmarked."""
    if compact or workflow.patched(TELEGRAM_QUEUE_PATCH):
        return telegram_queue(workflow.info().task_queue)
    return None


async def in_order(sends: list[Callable[[], Awaitable[T]]]) -> list[T]:
    """Runs the sends with at most IN_FLIGHT at a time, started in list order; results in order."""
    window = asyncio.Semaphore(IN_FLIGHT)

    async def one(send: Callable[[], Awaitable[T]]) -> T:
        async with window:
            return await send()

    return list(await asyncio.gather(*(one(send) for send in sends)))


async def notify(
    inp: NotifyInput,
    start_to_close: timedelta = SEND_TIMEOUT,
    schedule_to_close: timedelta | None = None,
    retry_policy: RetryPolicy | None = None,
    local: bool = False,
    compact: bool = False,
) -> None:
    """A payment event's messages to the customer and the operators, in order. `local` (a lean
    payment run): composed by a local activity, one round trip through the server less.
    `compact` (a compact payment run): local, and the patches it holds are not marked again."""
    queue = paced_queue(compact)
    if queue is None:
        await workflow.execute_activity_method(
            PaymentActivities.notify,
            inp,
            start_to_close_timeout=start_to_close,
            schedule_to_close_timeout=schedule_to_close,
            retry_policy=retry_policy,
        )
        return
    if compact or (local and workflow.patched(LOCAL_COMPOSE_PATCH)):
        messages = await workflow.execute_local_activity_method(
            PaymentActivities.compose_notices,
            inp,
            start_to_close_timeout=start_to_close,
            schedule_to_close_timeout=schedule_to_close,
            retry_policy=retry_policy,
        )
    else:
        messages = await workflow.execute_activity_method(
            PaymentActivities.compose_notices,
            inp,
            start_to_close_timeout=start_to_close,
            schedule_to_close_timeout=schedule_to_close,
            retry_policy=retry_policy,
        )
    await send(messages, queue, schedule_to_close, retry_policy)


async def send(
    messages: list[BotMessage],
    queue: str,
    schedule_to_close: timedelta | None = None,
    retry_policy: RetryPolicy | None = None,
) -> None:
    """Composed messages, one paced activity each, in order."""
    for message in messages:  # in order: a card's text before its QR code (in older runs)
        await workflow.execute_activity_method(
            TelegramActivities.deliver,
            message,
            task_queue=queue,
            start_to_close_timeout=SEND_TIMEOUT,
            schedule_to_close_timeout=schedule_to_close or SEND_DEADLINE,
            retry_policy=retry_policy,
        )
