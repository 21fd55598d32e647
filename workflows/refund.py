"""Refunds. `RefundWorkflow` (`refund:<key>`): a provider refund takes back access in the ledger
(a negative grant keyed by the refund) and the panels get the shorter expiry.
`RefundChargeWorkflow` (`stars-charge:<charge_id>`): a Stars charge no open payment can take
(a second invoice paid, an unknown payload) goes straight back to the customer.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from pydantic import BaseModel
from temporalio import workflow

from workflows import notices
from workflows.payment_steps import PATIENT, SHORT
from workflows.provision import ProvisionInput, ProvisionSubscriptionWorkflow, provision_workflow_id
from workflows.proxy import ProvisionProxyInput, ProvisionProxyWorkflow, proxy_workflow_id

with workflow.unsafe.imports_passed_through():
    from activities.ledger import ApplyGrantInput, LedgerActivities
    from activities.payments import (
        NotifyInput,
        PaymentActivities,
        PaymentEvent,
        RefundChargeInput,
        SetStatusInput,
    )
    from activities.refunds import RefundActivities, RefundCheckInput, RefundPlan, TakeBackInput
    from shop.models import GrantKind, PaymentStatus, Product
    from shop.payments.stars import StarsCharge


class RefundInput(BaseModel):
    payment_id: str
    refund_key: str  # the ledger source key: "yookassa-refund:<id>", "stars-refund:<charge id>"
    provider_refund_id: str | None = None
    amount: Decimal | None = None


# Runs started before the proxy product replay without its branch (they never refunded a proxy).
PROXY_REFUND_PATCH = "proxy-refund"
# Runs started before it ignored a top-up's refund (the money stayed on the balance).
TOPUP_REFUND_PATCH = "topup-refund"


def refund_workflow_id(refund_key: str) -> str:
    return f"refund:{refund_key}"


def charge_workflow_id(charge_id: str) -> str:
    return f"stars-charge:{charge_id}"


@workflow.defn
class RefundWorkflow:
    @workflow.run
    async def run(self, inp: RefundInput) -> RefundPlan:
        plan = await workflow.execute_activity_method(
            RefundActivities.check_refund,
            RefundCheckInput(
                payment_id=inp.payment_id, provider_refund_id=inp.provider_refund_id, amount=inp.amount
            ),
            start_to_close_timeout=SHORT,
            retry_policy=PATIENT,
        )
        if not plan.valid:
            workflow.logger.warning("refund %s ignored: %s", inp.refund_key, plan.reason)
            return plan
        if plan.balance_debit and workflow.patched(TOPUP_REFUND_PATCH):
            await self._take_back_topup(inp, plan)
            return plan
        await workflow.execute_activity_method(
            LedgerActivities.apply_grant,
            ApplyGrantInput(
                subscription_id=plan.subscription_id,
                source_key=inp.refund_key,
                seconds=plan.seconds,
                kind=GrantKind.REFUND,
                actor="refund",
                product=plan.product,
            ),
            start_to_close_timeout=SHORT,
            retry_policy=PATIENT,
        )
        if plan.product is Product.PROXY and workflow.patched(PROXY_REFUND_PATCH):
            # The proxy stops at its shorter expiry (the MTG API cannot shorten one; the shop stops it).
            await workflow.execute_child_workflow(
                ProvisionProxyWorkflow.run,
                ProvisionProxyInput(subscription_id=plan.subscription_id),
                id=proxy_workflow_id(plan.subscription_id, f"refund:{inp.refund_key}"),
            )
        else:  # The panels get the shorter (absolute) expiry.
            await workflow.execute_child_workflow(
                ProvisionSubscriptionWorkflow.run,
                ProvisionInput(subscription_id=plan.subscription_id),
                id=provision_workflow_id(plan.subscription_id, f"refund:{inp.refund_key}"),
            )
        await self._close(inp, plan, PaymentEvent.REFUND_APPLIED)
        return plan

    async def _take_back_topup(self, inp: RefundInput, plan: RefundPlan) -> None:
        detail = await workflow.execute_activity_method(
            RefundActivities.take_back_topup,
            TakeBackInput(payment_id=inp.payment_id, refund_key=inp.refund_key, amount=plan.balance_debit),
            start_to_close_timeout=SHORT,
            retry_policy=PATIENT,
        )
        await self._close(inp, plan, PaymentEvent.TOPUP_REFUNDED, detail)

    async def _close(self, inp: RefundInput, plan: RefundPlan, event: PaymentEvent, detail: str = "") -> None:
        """A full refund closes the payment as refunded; the customer and operators are told."""
        if plan.full:
            await workflow.execute_activity_method(
                PaymentActivities.set_status,
                SetStatusInput(payment_id=inp.payment_id, status=PaymentStatus.REFUNDED),
                start_to_close_timeout=SHORT,
                retry_policy=PATIENT,
            )
        await notices.notify(
            NotifyInput(payment_id=inp.payment_id, event=event, detail=detail),
            start_to_close=SHORT,
            schedule_to_close=timedelta(hours=1),
            retry_policy=PATIENT,
        )


@workflow.defn
class RefundChargeWorkflow:
    @workflow.run
    async def run(self, charge: StarsCharge) -> None:
        await workflow.execute_activity_method(
            PaymentActivities.refund_stars_charge,
            RefundChargeInput(user_id=charge.user_id, charge_id=charge.charge_id),
            start_to_close_timeout=SHORT,
            retry_policy=PATIENT,
        )
