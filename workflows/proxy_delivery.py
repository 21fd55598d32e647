"""The payment workflow's delivery of a proxy purchase: a proxy grant on the ledger, then
ProvisionProxyWorkflow reporting back (access first, as for the VPN: the card goes out once the
proxy is on the panel; a panel down at that moment gets the customer a "being set up" note and
the card when it returns)."""

from __future__ import annotations

from typing import Any

from temporalio import workflow

from workflows.payment_steps import ALIVE, PATIENT, SHORT
from workflows.proxy import ProvisionProxyInput, ProvisionProxyWorkflow, proxy_workflow_id

with workflow.unsafe.imports_passed_through():
    from activities.ledger import ApplyGrantInput, LedgerActivities
    from activities.payments import Order, PaymentEvent
    from shop.models import GrantKind, Product

# Runs started before the proxy product replay without it (they never sold a proxy).
PROXY_PATCH = "proxy-product"
# A paid proxy waits this long for its panel (the card goes out when it returns), then the upkeep.
DELIVERY_RETRY_SECONDS = 24 * 3600


class ProxyDelivery:
    """Mixed into PaymentWorkflow, after PaymentSteps and HostReports (whose methods it uses)."""

    stage: str
    granted: bool

    async def _deliver_proxy(self: Any, order: Order) -> None:
        self.stage = "granting"
        await workflow.execute_activity_method(
            LedgerActivities.apply_grant,
            ApplyGrantInput(
                subscription_id=order.subscription_id,
                source_key=order.payment_id,
                seconds=order.seconds,
                kind=GrantKind.PURCHASE,
                actor=f"payment:{order.method.value}",
                product=Product.PROXY,
            ),
            start_to_close_timeout=SHORT,
            heartbeat_timeout=ALIVE,
            retry_policy=PATIENT,
        )
        self.granted = True
        self.stage = "provisioning"
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
        await workflow.wait_condition(lambda: child.done() or self.any_host_ready() or self.no_host_can())
        if not (child.done() or self.any_host_ready()):
            self.stage = "waiting for the proxy panel"
            await self._notify(order, PaymentEvent.NO_HOST_YET, self.host_errors())
            await workflow.wait_condition(lambda: child.done() or self.any_host_ready())
        if child.done():
            await child  # "failed" after a day: the grant stands and the upkeep Schedule goes on
