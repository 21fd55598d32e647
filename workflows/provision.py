"""ProvisionSubscriptionWorkflow: put a subscription's client on every enabled host, in parallel.

Each host retries with backoff within a bound; one host down holds up no other, and a host still
failing past the bound is marked for the reconciliation Schedule. Idempotent: a second run with
the same ledger changes nothing.

A run started with `report_to` (a payment's run) tells that workflow how each host fares as it
goes: ready, or failing its first attempt. The payment sends the access card on the first ready
host and leaves the rest of this run to finish in the background (access first, DESIGN.md 10).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, FailureError

from workflows.provision_messages import (
    HOST_REPORT,
    HostProvision,
    HostReport,
    ProvisionInput,
    ProvisionResult,
    provision_workflow_id,
)

# Callers import the run's messages from here, with the workflow.
__all__ = [
    "HOST_REPORT",
    "HostProvision",
    "HostReport",
    "HostReports",
    "ProvisionInput",
    "ProvisionResult",
    "ProvisionSubscriptionWorkflow",
    "provision_workflow_id",
]

with workflow.unsafe.imports_passed_through():
    from activities.panels import ClientOnHostInput, ListHostsInput, MarkForReconcileInput, PanelActivities
    from shop.access.provisioning import ClientSync, SyncStatus


class HostReports:
    """Mixed into a workflow that starts a provisioning child with `report_to` set to its own id:
    the reports signal, and what the workflow waits on."""

    def __init__(self) -> None:
        self.host_reports: dict[int, HostReport] = {}

    @workflow.signal(name=HOST_REPORT)
    def record_host_report(self, report: HostReport) -> None:
        known = self.host_reports.get(report.host_id)
        if known is None or not known.ready:  # a host once ready stays ready for this payment
            self.host_reports[report.host_id] = report

    def any_host_ready(self) -> bool:
        return any(report.ready for report in self.host_reports.values())

    def no_host_can(self) -> bool:
        """Every host has reported, and none is ready."""
        reports = list(self.host_reports.values())
        return bool(reports) and len(reports) >= reports[0].hosts and not self.any_host_ready()

    def host_errors(self) -> str:
        return "; ".join(sorted({report.error for report in self.host_reports.values() if report.error}))


def _payment_of(inp: ProvisionInput) -> str | None:
    """The payment a run delivers (named, or the one whose run it reports to), for the timeline."""
    if inp.payment_id is not None:
        return inp.payment_id
    reported = inp.report_to or ""
    return reported.removeprefix("payment:") if reported.startswith("payment:") else None


PER_ATTEMPT = timedelta(seconds=60)
RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), backoff_coefficient=2.0, maximum_interval=timedelta(seconds=30)
)
# A reported run's first try per host: one attempt, so "no host can take it" is known in seconds.
ONCE = RetryPolicy(maximum_attempts=1)
SERVING = (SyncStatus.CREATED, SyncStatus.UPDATED, SyncStatus.UNCHANGED)


@workflow.defn
class ProvisionSubscriptionWorkflow:
    @workflow.run
    async def run(self, inp: ProvisionInput) -> ProvisionResult:
        # A local activity: one indexed query, and a round trip less through the server per run.
        host_ids = await workflow.execute_local_activity_method(
            PanelActivities.list_enabled_hosts,
            ListHostsInput(only=inp.host_ids),
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=RETRY,
        )
        results = await asyncio.gather(*(self._on_host(inp, host_id, len(host_ids)) for host_id in host_ids))
        return ProvisionResult(subscription_id=inp.subscription_id, hosts=list(results))

    async def _upsert(self, inp: ProvisionInput, host_id: int, once: bool = False) -> ClientSync:
        return await workflow.execute_activity_method(
            PanelActivities.upsert_client,
            ClientOnHostInput(
                subscription_id=inp.subscription_id, host_id=host_id, payment_id=_payment_of(inp)
            ),
            start_to_close_timeout=PER_ATTEMPT,
            # A dead worker is noticed in seconds, not after PER_ATTEMPT (worker.liveness).
            heartbeat_timeout=timedelta(seconds=10),
            schedule_to_close_timeout=None if once else timedelta(seconds=inp.retry_seconds),
            retry_policy=ONCE if once else RETRY,
        )

    async def _report(self, inp: ProvisionInput, report: HostReport) -> None:
        assert inp.report_to is not None
        try:
            await workflow.get_external_workflow_handle(inp.report_to).signal(HOST_REPORT, report)
        except FailureError as error:  # the payment already closed: nobody waits for this host
            workflow.logger.info("host %s report not taken: %s", report.host_id, error)

    async def _first_try(self, inp: ProvisionInput, host_id: int, hosts: int) -> ClientSync | None:
        try:
            sync = await self._upsert(inp, host_id, once=True)
        except ActivityError as error:
            reason = str(error.cause or error)[:500]
            await self._report(inp, HostReport(host_id=host_id, hosts=hosts, ready=False, error=reason))
            return None
        await self._report(inp, HostReport(host_id=host_id, hosts=hosts, ready=sync.status in SERVING))
        return sync

    async def _on_host(self, inp: ProvisionInput, host_id: int, hosts: int) -> HostProvision:
        if inp.report_to is not None:
            first = await self._first_try(inp, host_id, hosts)
            if first is not None:
                return HostProvision(host_id=host_id, status=first.status)
        try:
            sync = await self._upsert(inp, host_id)
        except ActivityError as error:
            reason = str(error.cause or error)
            await workflow.execute_activity_method(
                PanelActivities.mark_for_reconcile,
                MarkForReconcileInput(
                    subscription_id=inp.subscription_id, host_id=host_id, error=reason[:500]
                ),
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=RETRY,
            )
            return HostProvision(host_id=host_id, status="failed", error=reason[:500])
        if inp.report_to is not None:
            await self._report(inp, HostReport(host_id=host_id, hosts=hosts, ready=sync.status in SERVING))
        return HostProvision(host_id=host_id, status=sync.status)
