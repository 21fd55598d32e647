"""ReconcilePanelsWorkflow: run by the `reconcile-panels` Schedule; compares the database with
every enabled host and repairs drift. Its result (one report per host) shows in the Temporal UI."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from pydantic import BaseModel
from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.panels import ListHostsInput, PanelActivities, ReconcileHostInput
    from shop.access.reconcile import HostReconcileReport


class ReconcileInput(BaseModel):
    host_ids: list[int] | None = None  # None: every enabled host


class ReconcileResult(BaseModel):
    hosts: list[HostReconcileReport]


RECONCILE_WORKFLOW_ID = "reconcile-panels"


@workflow.defn
class ReconcilePanelsWorkflow:
    @workflow.run
    async def run(self, inp: ReconcileInput) -> ReconcileResult:
        host_ids = await workflow.execute_activity_method(
            PanelActivities.list_enabled_hosts,
            ListHostsInput(only=inp.host_ids),
            start_to_close_timeout=timedelta(seconds=30),
        )
        reports = await asyncio.gather(*(self._host(host_id) for host_id in host_ids))
        for report in reports:
            workflow.logger.info("reconcile %s", report.summary())
        return ReconcileResult(hosts=list(reports))

    async def _host(self, host_id: int) -> HostReconcileReport:
        try:
            return await workflow.execute_activity_method(
                PanelActivities.reconcile_host,
                ReconcileHostInput(host_id=host_id),
                start_to_close_timeout=timedelta(minutes=10),
                heartbeat_timeout=timedelta(minutes=2),
                # The next tick is the better retry for a host that stays down.
                retry_policy=RetryPolicy(maximum_attempts=3, initial_interval=timedelta(seconds=2)),
            )
        except ActivityError as error:
            return HostReconcileReport(
                host_id=host_id, host_name="", errors=[str(error.cause or error)[:500]]
            )
