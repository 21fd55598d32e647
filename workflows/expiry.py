"""Expiry lifecycle workflows, each run by a Schedule: the reminder scan, closing access that has
ended, and old-row cleanup. Each run is level-triggered, so an overlap, a retry or a missed run
is harmless."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from pydantic import BaseModel
from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.lifecycle import FindEndedInput, LifecycleActivities
    from activities.reminders import (
        ClaimInput,
        CleanupInput,
        ReminderActivities,
        SendBatchInput,
        SendCounts,
        SendOneInput,
    )

from workflows import notices
from workflows.provision import ProvisionInput, ProvisionSubscriptionWorkflow, provision_workflow_id

BATCH = 50
PROVISION_AT_ONCE = 20
# A host that stays down past this is left to the reconciliation Schedule, which fixes the drift.
CLOSE_RETRY_SECONDS = 120
RETRY = RetryPolicy(initial_interval=timedelta(seconds=2), maximum_interval=timedelta(seconds=60))


class ExpiryScanInput(BaseModel):
    now: datetime | None = None


class ExpiryScanReport(SendCounts):
    claimed: int = 0
    telegram_configured: bool = True


@workflow.defn
class ExpiryScanWorkflow:
    """Claims the reminders due now and sends them in batches; its result is the run's report."""

    @workflow.run
    async def run(self, inp: ExpiryScanInput) -> ExpiryScanReport:
        claim = await workflow.execute_activity_method(
            ReminderActivities.claim_reminders,
            ClaimInput(now=inp.now),
            start_to_close_timeout=timedelta(minutes=2),
            retry_policy=RETRY,
        )
        totals = SendCounts()
        ids = claim.reminder_ids
        paced = notices.paced_queue() if ids else None
        for start in range(0, len(ids), BATCH):
            batch = ids[start : start + BATCH]
            if paced is None:
                totals += await workflow.execute_activity_method(
                    ReminderActivities.send_reminders,
                    SendBatchInput(reminder_ids=batch, now=inp.now),
                    start_to_close_timeout=timedelta(minutes=10),
                    heartbeat_timeout=timedelta(seconds=10),
                    retry_policy=RETRY,
                )
                continue
            # One activity per message on the bot's paced queue; the server spaces them.
            for counts in await notices.in_order([self._send(paced, one, inp.now) for one in batch]):
                totals += counts
        report = ExpiryScanReport(
            claimed=len(ids), telegram_configured=claim.telegram_configured, **totals.model_dump()
        )
        workflow.logger.info("expiry scan: %s", report.model_dump())
        return report

    @staticmethod
    def _send(queue: str, reminder_id: int, now: datetime | None) -> Callable[[], Awaitable[SendCounts]]:
        return lambda: workflow.execute_activity_method(
            ReminderActivities.send_reminder,
            SendOneInput(reminder_id=reminder_id, now=now),
            task_queue=queue,
            start_to_close_timeout=notices.SEND_TIMEOUT,
            retry_policy=RETRY,
        )


class ReminderCleanupInput(BaseModel):
    keep_days: int = 90
    now: datetime | None = None


@workflow.defn
class ReminderCleanupWorkflow:
    @workflow.run
    async def run(self, inp: ReminderCleanupInput) -> int:
        return await workflow.execute_activity_method(
            ReminderActivities.clean_reminders,
            CleanupInput(keep_days=inp.keep_days, now=inp.now),
            start_to_close_timeout=timedelta(minutes=5),
            retry_policy=RETRY,
        )


class CloseEndedAccessInput(BaseModel):
    now: datetime | None = None


class CloseEndedAccessReport(BaseModel):
    subscriptions: int = 0
    closed: int = 0
    left_to_reconcile: int = 0


@workflow.defn
class CloseEndedAccessWorkflow:
    """Disables on every panel the clients of expired or banned subscriptions still enabled there,
    and re-enables those of active, unbanned ones still disabled there (an unban saved while
    Temporal was unreachable); `closed` counts both.

    Provisioning writes the absolute state the database implies, so a renewal that lands in
    between simply re-enables instead.
    """

    @workflow.run
    async def run(self, inp: CloseEndedAccessInput) -> CloseEndedAccessReport:
        ids = await workflow.execute_activity_method(
            LifecycleActivities.find_ended_access,
            FindEndedInput(now=inp.now),
            start_to_close_timeout=timedelta(minutes=2),
            retry_policy=RETRY,
        )
        report = CloseEndedAccessReport(subscriptions=len(ids))
        for start in range(0, len(ids), PROVISION_AT_ONCE):
            results = await asyncio.gather(
                *(
                    workflow.execute_child_workflow(
                        ProvisionSubscriptionWorkflow.run,
                        ProvisionInput(subscription_id=sub_id, retry_seconds=CLOSE_RETRY_SECONDS),
                        id=provision_workflow_id(sub_id, f"close:{workflow.info().workflow_id}"),
                    )
                    for sub_id in ids[start : start + PROVISION_AT_ONCE]
                )
            )
            for result in results:
                if result.failed_hosts:
                    report.left_to_reconcile += 1
                else:
                    report.closed += 1
        workflow.logger.info("close ended access: %s", report.model_dump())
        return report
