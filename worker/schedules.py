"""Temporal Schedules the shop keeps, created or updated idempotently at worker start.

Another area adds its periodic job by appending a `ScheduleDefinition` to `SCHEDULES`.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from pydantic import BaseModel
from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleIntervalSpec,
    ScheduleOverlapPolicy,
    SchedulePolicy,
    ScheduleSpec,
    ScheduleState,
    ScheduleUpdate,
    ScheduleUpdateInput,
)

from shop.settings import Settings
from workflows.expiry import (
    CloseEndedAccessInput,
    CloseEndedAccessWorkflow,
    ExpiryScanInput,
    ExpiryScanWorkflow,
    ReminderCleanupInput,
    ReminderCleanupWorkflow,
)
from workflows.reconcile import RECONCILE_WORKFLOW_ID, ReconcileInput, ReconcilePanelsWorkflow
from workflows.sales_digest import SCHEDULE_ID as SALES_DIGEST_ID
from workflows.sales_digest import sales_digest_schedule
from workflows.sweeper import SCHEDULE_ID as PAYMENT_SWEEP_ID
from workflows.sweeper import payment_sweep_schedule

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ScheduleDefinition:
    schedule_id: str
    build: Callable[[Settings, str], Schedule]  # (settings, task queue) -> the desired schedule


def every(
    interval: timedelta, action: ScheduleActionStartWorkflow, note: str, catchup: timedelta | None = None
) -> Schedule:
    """Level-triggered periodic work: never overlap, catch up at most one missed run."""
    return Schedule(
        action=action,
        spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=interval)]),
        policy=SchedulePolicy(
            overlap=ScheduleOverlapPolicy.SKIP,
            catchup_window=catchup or max(2 * interval, timedelta(seconds=10)),
        ),
        state=ScheduleState(note=note),
    )


def reconcile_panels(settings: Settings, task_queue: str) -> Schedule:
    interval = timedelta(minutes=settings.panel_reconcile_minutes)
    return every(
        interval,
        ScheduleActionStartWorkflow(
            ReconcilePanelsWorkflow.run,
            ReconcileInput(),
            id=RECONCILE_WORKFLOW_ID,
            task_queue=task_queue,
            execution_timeout=max(interval, timedelta(minutes=5)),
        ),
        note="compare panels with the database and repair drift",
    )


def periodic(
    schedule_id: str,
    run: Any,
    make_input: Callable[[Settings], BaseModel],
    interval: Callable[[Settings], timedelta],
    note: str,
    catchup: timedelta | None = None,
) -> ScheduleDefinition:
    """A definition whose one run is `run(make_input(settings))`, bounded to an hour."""

    def build(settings: Settings, task_queue: str) -> Schedule:
        action = ScheduleActionStartWorkflow(
            run,
            make_input(settings),
            id=schedule_id,
            task_queue=task_queue,
            execution_timeout=timedelta(hours=1),
        )
        return every(interval(settings), action, note, catchup)

    return ScheduleDefinition(schedule_id, build)


def _scan_interval(settings: Settings) -> timedelta:
    return timedelta(minutes=settings.expiry_scan_minutes)


EXPIRY_SCAN_ID = "expiry-scan"
CLOSE_ENDED_ACCESS_ID = "close-ended-access"
REMINDER_CLEANUP_ID = "reminder-cleanup"

SCHEDULES: list[ScheduleDefinition] = [
    ScheduleDefinition(RECONCILE_WORKFLOW_ID, reconcile_panels),
    periodic(
        EXPIRY_SCAN_ID,
        ExpiryScanWorkflow.run,
        lambda _: ExpiryScanInput(),
        _scan_interval,
        "send the expiry reminders that are due, each once",
    ),
    periodic(
        CLOSE_ENDED_ACCESS_ID,
        CloseEndedAccessWorkflow.run,
        lambda _: CloseEndedAccessInput(),
        _scan_interval,
        "disable on the panels the clients of expired or banned subscriptions; re-enable unbanned ones",
    ),
    periodic(
        REMINDER_CLEANUP_ID,
        ReminderCleanupWorkflow.run,
        lambda settings: ReminderCleanupInput(keep_days=settings.reminder_keep_days),
        lambda _: timedelta(days=1),
        "delete reminder rows no scan can claim again",
        catchup=timedelta(hours=1),
    ),
    ScheduleDefinition(PAYMENT_SWEEP_ID, payment_sweep_schedule),
    ScheduleDefinition(SALES_DIGEST_ID, sales_digest_schedule),
]


async def ensure_schedules(
    client: Client,
    settings: Settings,
    task_queue: str | None = None,
    definitions: list[ScheduleDefinition] | None = None,
) -> list[str]:
    """Create each schedule, or bring an existing one up to date; racing workers are harmless."""
    queue = task_queue or settings.temporal_task_queue
    ensured = []
    for definition in SCHEDULES if definitions is None else definitions:
        desired = definition.build(settings, queue)
        try:
            await client.create_schedule(definition.schedule_id, desired)
            log.info("schedule %s created", definition.schedule_id)
        except ScheduleAlreadyRunningError:

            def replace(current: ScheduleUpdateInput, schedule: Schedule = desired) -> ScheduleUpdate:
                # Keep a pause an operator set in the UI; everything else follows the code.
                return ScheduleUpdate(
                    schedule=dataclasses.replace(schedule, state=current.description.schedule.state)
                )

            await client.get_schedule_handle(definition.schedule_id).update(replace)
            log.info("schedule %s updated", definition.schedule_id)
        ensured.append(definition.schedule_id)
    return ensured
