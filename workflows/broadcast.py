"""BroadcastWorkflow: one durable run per operator broadcast, `broadcast:<id>`.

Takes the snapshot of recipients, then sends in batches (each an activity that claims, copies and
records one recipient at a time) until the snapshot is done or the operator stops it, and ends with
the operator's report. A long broadcast continues as new every few hundred batches, carrying its
cursor and sums, so 100k recipients stay far from the history limits.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

from pydantic import BaseModel
from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.broadcasts import (
        BatchInput,
        BatchResult,
        BroadcastActivities,
        BroadcastRef,
        FinishInput,
        RecipientRef,
    )
    from shop.messaging.broadcasts import BroadcastProgress
    from shop.models import DeliveryStatus

from workflows import notices

BATCH = 100
BATCHES_PER_RUN = 200
# With one activity per copy a batch costs ~3 events per recipient: continue as new sooner.
PACED_BATCHES_PER_RUN = 20
# Database and Telegram calls retry until they work; the worker's liveness beats catch a dead worker.
RETRY = RetryPolicy(initial_interval=timedelta(seconds=2), maximum_interval=timedelta(seconds=60))
ALIVE = timedelta(seconds=10)


def broadcast_workflow_id(broadcast_id: str) -> str:
    return f"broadcast:{broadcast_id}"


class BroadcastInput(BaseModel):
    broadcast_id: str
    batch_size: int = BATCH
    batches_per_run: int = BATCHES_PER_RUN
    # Carried over continue-as-new:
    after_user_id: int = 0
    progress: BroadcastProgress | None = None
    stop_requested: bool = False


@workflow.defn
class BroadcastWorkflow:
    def __init__(self) -> None:
        self._progress = BroadcastProgress()
        self.stop_requested = False

    @workflow.signal
    def stop(self) -> None:
        """The operator's Stop (also written to the database, where a batch under way sees it within
        a second): no further batch starts."""
        self.stop_requested = True

    @workflow.query
    def progress(self) -> BroadcastProgress:
        return self._progress

    @workflow.run
    async def run(self, inp: BroadcastInput) -> BroadcastProgress:
        self.stop_requested = self.stop_requested or inp.stop_requested
        if inp.progress is not None:
            self._progress = inp.progress
        else:
            snapshot = await workflow.execute_activity_method(
                BroadcastActivities.start_broadcast,
                BroadcastRef(broadcast_id=inp.broadcast_id),
                start_to_close_timeout=timedelta(minutes=5),
                heartbeat_timeout=ALIVE,
                retry_policy=RETRY,
            )
            if not snapshot.started:
                self.stop_requested = True
            self._progress = BroadcastProgress(
                state="sending",
                total=snapshot.total,
                recipients=snapshot.recipients,
                skipped=snapshot.skipped,
                blocked_before=snapshot.blocked_before,
            )
        after, done = inp.after_user_id, False
        paced = notices.paced_queue()
        runs = inp.batches_per_run if paced is None else min(inp.batches_per_run, PACED_BATCHES_PER_RUN)
        for _ in range(runs):
            if self.stop_requested:
                break
            batch_input = BatchInput(broadcast_id=inp.broadcast_id, after_user_id=after, limit=inp.batch_size)
            if paced is None:
                batch = await workflow.execute_activity_method(
                    BroadcastActivities.send_broadcast_batch,
                    batch_input,
                    start_to_close_timeout=timedelta(minutes=10),
                    heartbeat_timeout=ALIVE,
                    retry_policy=RETRY,
                )
            else:
                batch = await self._paced_batch(batch_input, paced)
            after = batch.last_user_id
            self._progress.sent += batch.sent
            self._progress.failed += batch.failed
            self._progress.blocked += batch.blocked
            if batch.stopped:  # stopped in the database, the signal not (yet) here
                self.stop_requested = True
            elif batch.done:
                done = True
                break
        else:
            await workflow.wait_condition(workflow.all_handlers_finished)
            workflow.continue_as_new(
                inp.model_copy(
                    update={
                        "after_user_id": after,
                        "progress": self._progress,
                        "stop_requested": self.stop_requested,
                    }
                )
            )
        self._progress = await workflow.execute_activity_method(
            BroadcastActivities.finish_broadcast,
            FinishInput(broadcast_id=inp.broadcast_id, canceled=self.stop_requested and not done),
            task_queue=paced,  # it sends one message, the operator's report
            start_to_close_timeout=timedelta(minutes=2),
            retry_policy=RETRY,
        )
        return self._progress

    async def _paced_batch(self, inp: BatchInput, queue: str) -> BatchResult:
        """A batch as one activity per copy on the bot's paced queue: the server spaces them."""
        plan = await workflow.execute_activity_method(
            BroadcastActivities.plan_broadcast_batch,
            inp,
            start_to_close_timeout=timedelta(minutes=2),
            retry_policy=RETRY,
        )

        def copy(user_id: int) -> Callable[[], Awaitable[DeliveryStatus]]:
            return lambda: workflow.execute_activity_method(
                BroadcastActivities.copy_to_recipient,
                RecipientRef(broadcast_id=inp.broadcast_id, user_id=user_id),
                task_queue=queue,
                start_to_close_timeout=notices.SEND_TIMEOUT,
                retry_policy=RETRY,
            )

        statuses = await notices.in_order([copy(user_id) for user_id in plan.pending])
        return BatchResult(
            last_user_id=plan.last_user_id,
            done=plan.done,
            stopped=DeliveryStatus.PENDING in statuses,
            sent=plan.sent + statuses.count(DeliveryStatus.SENT),
            failed=plan.failed + statuses.count(DeliveryStatus.FAILED),
            blocked=plan.blocked + statuses.count(DeliveryStatus.BLOCKED),
        )
