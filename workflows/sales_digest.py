"""SalesDigestWorkflow, run by the `sales-digest` Schedule: the operators hear about sales once per
window (a digest), not once per sale. Each run reports the window that ends at its scheduled time,
so every window is reported by exactly one run: a run retried or started late (the worker was down;
the Schedule buffers, never skips) reports the same window, never a second one.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel
from temporalio import workflow
from temporalio.client import (
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleState,
)
from temporalio.common import RetryPolicy, SearchAttributeKey

from workflows import notices

with workflow.unsafe.imports_passed_through():
    from activities.sales import DigestSent, SalesDigest, SalesDigestActivities, SalesWindow
    from activities.telegram import TelegramActivities
    from shop.messaging.pacing import telegram_queue
    from shop.messaging.telegram_send import BotMessage
    from shop.settings import Settings

SCHEDULE_ID = "sales-digest"
SCHEDULED_AT = SearchAttributeKey.for_datetime("TemporalScheduledStartTime")
# A delivery's row is written a moment before its transaction commits: a window closes this long
# before the run that reads it, so a sale committed late is still in the window it belongs to.
SETTLE = timedelta(seconds=30)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # Schedules space their intervals from it
# Runs begun before it sent the whole digest from one activity on the shop's queue, outside the
# bot's pace; with it, each operator's message is one send on the paced queue, like every other.
PACED_PATCH = "digest-paced"
RETRIED = RetryPolicy(maximum_interval=timedelta(minutes=1))


class SalesDigestInput(BaseModel):
    minutes: int
    until: datetime | None = None  # the window's exact end; None: the one the run is scheduled for


def _deliver(message: BotMessage, queue: str) -> Awaitable[bool]:
    return workflow.execute_activity_method(
        TelegramActivities.deliver,
        message,
        task_queue=queue,
        start_to_close_timeout=notices.SEND_TIMEOUT,
        schedule_to_close_timeout=timedelta(hours=6),
        retry_policy=RETRIED,
    )


def window_ending(at: datetime, minutes: int) -> SalesWindow:
    """The window of `minutes` that ends at `at`'s place on the interval grid (less SETTLE)."""
    every = timedelta(minutes=minutes)
    end = EPOCH + (at - EPOCH) // every * every - SETTLE
    return SalesWindow(since=end - every, until=end)


@workflow.defn
class SalesDigestWorkflow:
    @workflow.run
    async def run(self, inp: SalesDigestInput) -> DigestSent:
        if inp.until is not None:
            window = SalesWindow(since=inp.until - timedelta(minutes=inp.minutes), until=inp.until)
        else:
            at = workflow.info().typed_search_attributes.get(SCHEDULED_AT) or workflow.now()
            window = window_ending(at, inp.minutes)
        if not workflow.patched(PACED_PATCH):
            return await workflow.execute_activity_method(
                SalesDigestActivities.send_sales_digest,
                window,
                start_to_close_timeout=timedelta(minutes=2),
                heartbeat_timeout=timedelta(seconds=30),
                schedule_to_close_timeout=timedelta(hours=6),
                retry_policy=RETRIED,
            )
        digest: SalesDigest = await workflow.execute_local_activity_method(
            SalesDigestActivities.compose_sales_digest,
            window,
            start_to_close_timeout=timedelta(minutes=1),
            retry_policy=RETRIED,
        )
        queue = telegram_queue(workflow.info().task_queue)
        sent = await notices.in_order(
            [functools.partial(_deliver, message, queue) for message in digest.messages]
        )
        return DigestSent(sales=digest.sales, operators=sum(sent))


def sales_digest_schedule(settings: Settings, task_queue: str) -> Schedule:
    """For `worker.schedules.SCHEDULES`: buffer, never skip, a run whose predecessor is still on,
    and catch up a day of missed runs: each window's digest comes, late rather than never."""
    interval = timedelta(minutes=settings.sales_digest_minutes)
    return Schedule(
        action=ScheduleActionStartWorkflow(
            SalesDigestWorkflow.run,
            SalesDigestInput(minutes=settings.sales_digest_minutes),
            id=SCHEDULE_ID,
            task_queue=task_queue,
            execution_timeout=timedelta(hours=7),
        ),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=interval)]),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.BUFFER_ALL, catchup_window=timedelta(days=1)),
        state=ScheduleState(note="one message to the operators about the sales of the last interval"),
    )
