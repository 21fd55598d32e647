"""PaymentSweepWorkflow, run by the `payment-sweep` Schedule: recover payments whose webhook
never came, flag late payments for a human, expire checkouts nobody paid.
"""

from __future__ import annotations

from datetime import timedelta

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
from temporalio.common import RetryPolicy

from workflows import notices

with workflow.unsafe.imports_passed_through():
    from activities.payments import NotifyInput, PaymentActivities, PaymentEvent, SetStatusInput
    from activities.sweeper import SweepActivities, SweepInput, SweepReport
    from shop.models import PaymentStatus
    from shop.settings import Settings

SCHEDULE_ID = "payment-sweep"


@workflow.defn
class PaymentSweepWorkflow:
    @workflow.run
    async def run(self, inp: SweepInput) -> SweepReport:
        report = await workflow.execute_activity_method(
            SweepActivities.sweep_payments,
            inp,
            start_to_close_timeout=timedelta(minutes=3),
            heartbeat_timeout=timedelta(minutes=1),
            retry_policy=RetryPolicy(maximum_attempts=3),
        )
        for payment_id in report.late:
            reason = "paid at the provider after the payment closed here"
            await workflow.execute_activity_method(
                PaymentActivities.set_status,
                SetStatusInput(payment_id=payment_id, status=PaymentStatus.REVIEW, reason=reason),
                start_to_close_timeout=timedelta(seconds=30),
            )
            await notices.notify(
                NotifyInput(payment_id=payment_id, event=PaymentEvent.REVIEW, detail=reason),
                start_to_close=timedelta(seconds=30),
            )
        return report


def payment_sweep_schedule(settings: Settings, task_queue: str) -> Schedule:
    """For `worker.schedules.SCHEDULES`: (settings, task queue) -> the desired schedule."""
    interval = timedelta(minutes=settings.payment_sweep_minutes)
    return Schedule(
        action=ScheduleActionStartWorkflow(
            PaymentSweepWorkflow.run,
            SweepInput(),
            id=SCHEDULE_ID,
            task_queue=task_queue,
            execution_timeout=interval,
        ),
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=interval)]),
        policy=SchedulePolicy(overlap=ScheduleOverlapPolicy.SKIP, catchup_window=interval * 2),
        state=ScheduleState(note="payments whose webhook never came; stale checkouts"),
    )
