"""A lean VPN payment's first try on every host, inside the payment's own run (issue 14).

Since the `inline-hosts` patch the run lists the enabled hosts and tries each once, all at once, as
local activities, instead of starting a provisioning child that reports each host back by signal:
that child's start, its workflow tasks, an activity task per host and the signals back were most of
a paid order's events. The card goes out on the first host that serves; the other tries finish
before the run closes, and only hosts that did not serve go to a provisioning child, abandoned
when the run closes, which retries them in the background (and leaves them to reconciliation past
its window). When every host serves, no child is started at all.

When no host serves its first try, the child is started with `report_to` for those hosts and the run
waits as access first always did (ProxyDelivery._until_served): the customer and the operators hear
so at once, and the card follows the first host that recovers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

from workflows.provision import (
    ONCE,
    SERVING,
    HostReport,
    ProvisionInput,
    ProvisionSubscriptionWorkflow,
    provision_workflow_id,
)

with workflow.unsafe.imports_passed_through():
    from activities.panels import ClientOnHostInput, ListHostsInput, PanelActivities
    from activities.payments import Order
    from shop.access.provisioning import ClientSync

# Runs started before it (lean or not) provision through a reporting child from the start.
INLINE_HOSTS_PATCH = "inline-hosts"
# One attempt, bounded: a panel that hangs must not keep the run from learning that no host serves.
# Each panel call has its own timeouts (connect 5 s, read `panel_timeout_seconds`, 15 s by default),
# so a panel that answers is done well within it; a failed try is the background child's to retry.
FIRST_TRY = timedelta(seconds=15)


def provisioning_id(order: Order) -> str:
    """The payment's provisioning child, whichever path starts it."""
    return provision_workflow_id(order.subscription_id, f"payment:{order.payment_id}")


class HostFirstTries:
    """Mixed into PaymentWorkflow after PaymentSteps, HostReports and ProxyDelivery, whose step,
    host reports and access-first wait it uses."""

    _step: Callable[..., Awaitable[Any]]
    host_reports: dict[int, HostReport]
    record_host_report: Callable[[HostReport], None]
    any_host_ready: Callable[[], bool]
    _until_served: Callable[[Order, workflow.ChildWorkflowHandle[Any, Any], str], Awaitable[None]]
    # The first tries still going when the card went out, collected before the run closes.
    first_tries: tuple[asyncio.Task[None], ...] = ()

    async def _provision_first_tries(self, order: Order) -> None:
        """Returns once one host serves (the rest go on), or when none does and one recovers."""
        hosts: list[int] = await self._step(PanelActivities.list_enabled_hosts, ListHostsInput())
        self.first_tries = tuple(
            asyncio.create_task(self._first_try(order, host_id, len(hosts))) for host_id in hosts
        )
        await workflow.wait_condition(
            lambda: self.any_host_ready() or all(task.done() for task in self.first_tries)
        )
        if self.any_host_ready() or not hosts:
            return
        # No host serves: every report is in and none is ready, so the wait tells the customer and
        # the operators at once, then waits for the child's first ready host (or its end).
        self.first_tries = ()
        child = await self._start_provisioning(order, report=True)
        await self._until_served(order, child, "waiting for a host")

    async def _first_try(self, order: Order, host_id: int, hosts: int) -> None:
        try:
            sync: ClientSync = await workflow.execute_local_activity_method(
                PanelActivities.upsert_client,
                ClientOnHostInput(
                    subscription_id=order.subscription_id, host_id=host_id, payment_id=order.payment_id
                ),
                start_to_close_timeout=FIRST_TRY,
                retry_policy=ONCE,
            )
        except (ActivityError, ApplicationError) as error:
            # A local activity's own failure arrives as it was raised (an ApplicationError), not
            # wrapped as a scheduled activity's is; its timeout arrives as an ActivityError.
            failure = error.cause if isinstance(error, ActivityError) and error.cause else error
            reason = str(failure)[:500]
            self.record_host_report(HostReport(host_id=host_id, hosts=hosts, ready=False, error=reason))
            return
        self.record_host_report(HostReport(host_id=host_id, hosts=hosts, ready=sync.status in SERVING))

    async def _hand_over_the_rest(self, order: Order) -> None:
        """Before the run closes: the first tries still going finish, and the hosts that did not serve
        go to the background child. Nothing when every host served (or none was tried here)."""
        if not self.first_tries:
            return
        await asyncio.gather(*self.first_tries)
        self.first_tries = ()
        if not all(report.ready for report in self.host_reports.values()):
            await self._start_provisioning(order, report=False)

    async def _start_provisioning(self, order: Order, report: bool) -> workflow.ChildWorkflowHandle[Any, Any]:
        """A provisioning child for the hosts whose first try did not serve; `report`: it tells this
        run how each fares (the run still waits for a host)."""
        failed = [host_id for host_id, known in self.host_reports.items() if not known.ready]
        return await workflow.start_child_workflow(
            ProvisionSubscriptionWorkflow.run,
            ProvisionInput(
                subscription_id=order.subscription_id,
                host_ids=failed,
                payment_id=order.payment_id,
                report_to=workflow.info().workflow_id if report else None,
            ),
            id=provisioning_id(order),
            parent_close_policy=workflow.ParentClosePolicy.ABANDON,
        )
