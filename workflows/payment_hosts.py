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

A local activity still running holds back every command after it, the card's send included (the
commands go to the server in order, and its marker comes first), so a first try is bounded by
FIRST_TRY: a panel that hangs delays the card that long at most. A try that ran out of time says
nothing about the host: it goes to the child like a failed one, but "no host can take it" waits for
the child's own first try of it (no alarm because the shop was slow).
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
# One attempt, and the longest a hanging panel may hold the card (see above): the target for
# a card with a host down, and the panel client's connect timeout (shop/panel/session.py), so a host
# that does not even accept connections fails on its own first. A panel that answers takes a fraction
# of it (one login, a few API calls); one slower than this is left to the child (60 s per attempt).
FIRST_TRY = timedelta(seconds=5)


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
    # The hosts tried, and the tries still going when the card went out (collected before the run
    # closes); a host's report says how its try ended, and a try that ran out of time leaves none.
    tried_hosts: tuple[int, ...] = ()
    first_tries: tuple[asyncio.Task[None], ...] = ()

    async def _provision_first_tries(self, order: Order, hosts: list[int] | None) -> None:
        """Returns once one host serves (the rest go on), or when none does and one recovers.
        `hosts`: the enabled hosts, when "paid" listed them (a compact run); else listed here."""
        if hosts is None:
            hosts = await self._step(PanelActivities.list_enabled_hosts, ListHostsInput())
        self.tried_hosts = tuple(hosts)
        self.first_tries = tuple(
            asyncio.create_task(self._first_try(order, host_id, len(hosts))) for host_id in hosts
        )
        await workflow.wait_condition(
            lambda: self.any_host_ready() or all(task.done() for task in self.first_tries)
        )
        if self.any_host_ready() or not hosts:
            return
        # No host serves. With every host's failure reported, the wait tells the customer and the
        # operators at once; a try that ran out of time is first the child's to report. Then it waits
        # for the child's first ready host (or its end).
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
        except ApplicationError as error:
            # A local activity's own failure arrives as it was raised, not wrapped in an ActivityError
            # as a scheduled activity's is.
            reason = str(error)[:500]
            self.record_host_report(HostReport(host_id=host_id, hosts=hosts, ready=False, error=reason))
            return
        except ActivityError:  # out of time (FIRST_TRY): undecided, no report
            return
        self.record_host_report(HostReport(host_id=host_id, hosts=hosts, ready=sync.status in SERVING))

    async def _hand_over_the_rest(self, order: Order) -> None:
        """Before the run closes: the first tries still going finish, and the hosts that did not serve
        go to the background child. Nothing when every host served (or none was tried here)."""
        if not self.first_tries:
            return
        await asyncio.gather(*self.first_tries)
        self.first_tries = ()
        if self._not_served():
            await self._start_provisioning(order, report=False)

    def _not_served(self) -> list[int]:
        known = self.host_reports
        return [host_id for host_id in self.tried_hosts if not (host_id in known and known[host_id].ready)]

    async def _start_provisioning(self, order: Order, report: bool) -> workflow.ChildWorkflowHandle[Any, Any]:
        """A provisioning child for the hosts whose first try did not serve; `report`: it tells this
        run how each fares (the run still waits for a host)."""
        return await workflow.start_child_workflow(
            ProvisionSubscriptionWorkflow.run,
            ProvisionInput(
                subscription_id=order.subscription_id,
                host_ids=self._not_served(),
                payment_id=order.payment_id,
                report_to=workflow.info().workflow_id if report else None,
            ),
            id=provisioning_id(order),
            parent_close_policy=workflow.ParentClosePolicy.ABANDON,
        )
