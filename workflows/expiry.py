"""Expiry lifecycle workflows, each run by a Schedule: the reminder scan and old-row cleanup."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel
from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.reminders import (
        ClaimInput,
        CleanupInput,
        ReminderActivities,
        SendBatchInput,
        SendCounts,
    )

BATCH = 50
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
        for start in range(0, len(ids), BATCH):
            totals += await workflow.execute_activity_method(
                ReminderActivities.send_reminders,
                SendBatchInput(reminder_ids=ids[start : start + BATCH], now=inp.now),
                start_to_close_timeout=timedelta(minutes=10),
                heartbeat_timeout=timedelta(seconds=10),
                retry_policy=RETRY,
            )
        report = ExpiryScanReport(
            claimed=len(ids), telegram_configured=claim.telegram_configured, **totals.model_dump()
        )
        workflow.logger.info("expiry scan: %s", report.model_dump())
        return report


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
