"""The payment workflow's provisioning of a proxy purchase (the grant before it is the payment's
own, with the plan's product): ProvisionProxyWorkflow reporting back, access first as for the VPN:
the card goes out once the proxy is on the panel; a panel down at that moment gets the customer a
"being set up" note and the card when it returns."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from temporalio import workflow

from workflows.proxy import ProvisionProxyInput, ProvisionProxyWorkflow, proxy_workflow_id

with workflow.unsafe.imports_passed_through():
    from activities.payments import Order, PaymentEvent

# Runs started before the proxy product replay without it (they never sold a proxy).
PROXY_PATCH = "proxy-product"
# A paid proxy waits this long for its panel (the card goes out when it returns), then the upkeep.
DELIVERY_RETRY_SECONDS = 24 * 3600


class ProxyDelivery:
    """Mixed into PaymentWorkflow, after PaymentSteps and HostReports (whose methods it uses): the
    proxy's provisioning, and the access-first wait both products' provisioning children share."""

    stage: str
    any_host_ready: Callable[[], bool]
    no_host_can: Callable[[], bool]
    host_errors: Callable[[], str]

    async def _provision_proxy(self, order: Order) -> None:
        child = await workflow.start_child_workflow(
            ProvisionProxyWorkflow.run,
            ProvisionProxyInput(
                subscription_id=order.subscription_id,
                retry_seconds=DELIVERY_RETRY_SECONDS,
                report_to=workflow.info().workflow_id,
            ),
            id=proxy_workflow_id(order.subscription_id, f"payment:{order.payment_id}"),
            parent_close_policy=workflow.ParentClosePolicy.ABANDON,
        )
        # "failed" after a day: the grant stands and the upkeep Schedule goes on.
        await self._until_served(order, child, "waiting for the proxy panel")

    async def _until_served(
        self, order: Order, child: workflow.ChildWorkflowHandle[Any, Any], waiting: str
    ) -> None:
        """Returns once a reported host serves the customer, or the child ends. When every host
        fails its first try, the customer and the operators hear so at once, and the wait goes on
        for the first host that recovers (or for the child to give up)."""
        await workflow.wait_condition(lambda: child.done() or self.any_host_ready() or self.no_host_can())
        if not (child.done() or self.any_host_ready()):
            self.stage = waiting
            await self._notify(order, PaymentEvent.NO_HOST_YET, self.host_errors())  # type: ignore[attr-defined]
            await workflow.wait_condition(lambda: child.done() or self.any_host_ready())
        if child.done():
            await child  # a failed child is a failed delivery (ChildWorkflowError)
