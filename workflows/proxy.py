"""Proxy workflows: put a customer's proxy on an MTG panel as the ledger says, and keep every proxy
in line on a Schedule (stop at expiry, start on renewal, repair drift).

ProvisionProxyWorkflow (`proxy:<subscription>:<trigger>`) retries within a bound, then marks the
proxy for the upkeep; with `report_to` it tells that workflow (a payment) how its first try went,
through the same `HostReport` signal the VPN's provisioning uses. ProxyUpkeepWorkflow runs it for
each proxy out of line (every few minutes) or for all of them (`full`, the reconciliation).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from pydantic import BaseModel
from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, FailureError

from workflows.provision import HOST_REPORT, HostReport

with workflow.unsafe.imports_passed_through():
    from activities.ledger import ApplyGrantInput, ApplyGrantResult, LedgerActivities
    from activities.proxy import ProxiesDueInput, ProxyActivities, ProxyRef
    from shop.models import GrantKind, Product
    from shop.proxy.provisioning import SERVING, ProxySync

PER_ATTEMPT = timedelta(seconds=60)
RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), backoff_coefficient=2.0, maximum_interval=timedelta(seconds=30)
)
ONCE = RetryPolicy(maximum_attempts=1)
AT_ONCE = 20


class ProvisionProxyInput(BaseModel):
    subscription_id: int
    retry_seconds: int = 900  # past it the proxy is left to the upkeep Schedule
    report_to: str | None = None


class ProvisionProxyResult(BaseModel):
    subscription_id: int
    status: str  # a ProxyStatus, or "failed"
    error: str = ""


def proxy_workflow_id(subscription_id: int, trigger: str) -> str:
    return f"proxy:{subscription_id}:{trigger}"


@workflow.defn
class ProvisionProxyWorkflow:
    @workflow.run
    async def run(self, inp: ProvisionProxyInput) -> ProvisionProxyResult:
        if inp.report_to is not None:
            try:
                first = await self._sync(inp, once=True)
            except ActivityError as error:
                await self._report(inp, HostReport(host_id=0, hosts=1, ready=False, error=_reason(error)))
            else:
                await self._report(inp, HostReport(host_id=0, hosts=1, ready=first.status in SERVING))
                return ProvisionProxyResult(subscription_id=inp.subscription_id, status=first.status)
        try:
            sync = await self._sync(inp)
        except ActivityError as error:
            await workflow.execute_activity_method(
                ProxyActivities.mark_proxy_for_reconcile,
                ProxyRef(subscription_id=inp.subscription_id),
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=RETRY,
            )
            return ProvisionProxyResult(
                subscription_id=inp.subscription_id, status="failed", error=_reason(error)
            )
        if inp.report_to is not None:
            await self._report(inp, HostReport(host_id=0, hosts=1, ready=sync.status in SERVING))
        return ProvisionProxyResult(subscription_id=inp.subscription_id, status=sync.status)

    async def _sync(self, inp: ProvisionProxyInput, once: bool = False) -> ProxySync:
        return await workflow.execute_activity_method(
            ProxyActivities.sync_proxy,
            ProxyRef(subscription_id=inp.subscription_id),
            start_to_close_timeout=PER_ATTEMPT,
            heartbeat_timeout=timedelta(seconds=10),
            schedule_to_close_timeout=None if once else timedelta(seconds=inp.retry_seconds),
            retry_policy=ONCE if once else RETRY,
        )

    async def _report(self, inp: ProvisionProxyInput, report: HostReport) -> None:
        assert inp.report_to is not None
        try:
            await workflow.get_external_workflow_handle(inp.report_to).signal(HOST_REPORT, report)
        except FailureError as error:  # the payment already closed
            workflow.logger.info("proxy report not taken: %s", error)


def _reason(error: ActivityError) -> str:
    return str(error.cause or error)[:500]


class ProxyUpkeepInput(BaseModel):
    full: bool = False
    retry_seconds: int = 120


class ProxyUpkeepReport(BaseModel):
    proxies: int = 0
    in_line: int = 0
    left_to_reconcile: int = 0


@workflow.defn
class ProxyUpkeepWorkflow:
    @workflow.run
    async def run(self, inp: ProxyUpkeepInput) -> ProxyUpkeepReport:
        ids = await workflow.execute_activity_method(
            ProxyActivities.proxies_due,
            ProxiesDueInput(full=inp.full),
            start_to_close_timeout=timedelta(minutes=2),
            retry_policy=RETRY,
        )
        report = ProxyUpkeepReport(proxies=len(ids))
        trigger = f"upkeep:{workflow.info().workflow_id}:{workflow.info().run_id}"
        for start in range(0, len(ids), AT_ONCE):
            results = await asyncio.gather(
                *(
                    workflow.execute_child_workflow(
                        ProvisionProxyWorkflow.run,
                        ProvisionProxyInput(subscription_id=sub_id, retry_seconds=inp.retry_seconds),
                        id=proxy_workflow_id(sub_id, trigger),
                    )
                    for sub_id in ids[start : start + AT_ONCE]
                )
            )
            for result in results:
                if result.status == "failed":
                    report.left_to_reconcile += 1
                else:
                    report.in_line += 1
        workflow.logger.info("proxy upkeep: %s", report.model_dump())
        return report


class GrantProxyInput(BaseModel):
    subscription_id: int
    source_key: str
    seconds: int
    kind: GrantKind
    actor: str


class GrantProxyResult(ApplyGrantResult):
    provisioning: ProvisionProxyResult


@workflow.defn
class GrantProxyWorkflow:
    """A proxy grant that is not a payment (the proxy's trial, an operator's gift), then its proxy:
    `grant:<source key>`, as GrantAccessWorkflow is for the VPN."""

    @workflow.run
    async def run(self, inp: GrantProxyInput) -> GrantProxyResult:
        granted = await workflow.execute_activity_method(
            LedgerActivities.apply_grant,
            ApplyGrantInput(**inp.model_dump(), product=Product.PROXY),
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=RetryPolicy(maximum_interval=timedelta(seconds=30)),
        )
        provisioning = await workflow.execute_child_workflow(
            ProvisionProxyWorkflow.run,
            ProvisionProxyInput(subscription_id=inp.subscription_id),
            id=proxy_workflow_id(inp.subscription_id, f"grant:{inp.source_key}"),
        )
        return GrantProxyResult(**granted.model_dump(), provisioning=provisioning)
