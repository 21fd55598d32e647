"""ProvisionSubscriptionWorkflow: put a subscription's client on every enabled host, in parallel.

Each host retries with backoff within a bound; one host down holds up no other, and a host still
failing past the bound is marked for the reconciliation Schedule. Idempotent: a second run with
the same ledger changes nothing.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from pydantic import BaseModel
from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.panels import ClientOnHostInput, ListHostsInput, MarkForReconcileInput, PanelActivities
    from shop.access.provisioning import ClientSync, SyncStatus


class ProvisionInput(BaseModel):
    subscription_id: int
    host_ids: list[int] | None = None  # None: every enabled host
    retry_seconds: int = 900  # per host; past it the host is left to reconciliation


class HostProvision(BaseModel):
    host_id: int
    status: SyncStatus | str  # a SyncStatus, or "failed"
    error: str = ""
    # The host's status only: customers' links stay in the database, out of workflow histories.


class ProvisionResult(BaseModel):
    subscription_id: int
    hosts: list[HostProvision]

    @property
    def failed_hosts(self) -> list[int]:
        return [h.host_id for h in self.hosts if h.status == "failed"]


def provision_workflow_id(subscription_id: int, trigger: str) -> str:
    """`provision:<subscription>:<trigger>`, e.g. trigger = "payment:<id>" or "grant:<source key>"."""
    return f"provision:{subscription_id}:{trigger}"


PER_ATTEMPT = timedelta(seconds=60)
RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), backoff_coefficient=2.0, maximum_interval=timedelta(seconds=30)
)


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
        results = await asyncio.gather(*(self._on_host(inp, host_id) for host_id in host_ids))
        return ProvisionResult(subscription_id=inp.subscription_id, hosts=list(results))

    async def _on_host(self, inp: ProvisionInput, host_id: int) -> HostProvision:
        try:
            sync: ClientSync = await workflow.execute_activity_method(
                PanelActivities.upsert_client,
                ClientOnHostInput(subscription_id=inp.subscription_id, host_id=host_id),
                start_to_close_timeout=PER_ATTEMPT,
                # A dead worker is noticed in seconds, not after PER_ATTEMPT (worker.liveness).
                heartbeat_timeout=timedelta(seconds=10),
                schedule_to_close_timeout=timedelta(seconds=inp.retry_seconds),
                retry_policy=RETRY,
            )
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
        return HostProvision(host_id=host_id, status=sync.status)
