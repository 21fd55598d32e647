"""Operators' decisions on a payment and their notices to a customer, each one workflow run.

`ResolveReviewWorkflow` (`payment-resolution:<payment id>`): a payment in review is delivered
anyway, refunded (Stars: the charge goes back; YooKassa: a refund keyed by the payment, so a retry
makes one) or closed with a reason. One id per payment and a start that fails when the id was ever
used: the first operator's decision is the only one.

`CustomerNoticeWorkflow` (`customer-notice:<action id>`): a message, or the access card again; the
action id minted into the console's form makes a double click one run.
"""

from __future__ import annotations

import enum

from pydantic import BaseModel
from temporalio import workflow

from workflows import notices
from workflows.payment_steps import ALIVE, PATIENT, SHORT, PaymentSteps
from workflows.provision import ProvisionInput, ProvisionSubscriptionWorkflow, provision_workflow_id

with workflow.unsafe.imports_passed_through():
    from activities.ledger import ApplyGrantInput, LedgerActivities
    from activities.operators import CustomerNoticeInput, OperatorActivities
    from activities.payments import (
        Order,
        PaymentActivities,
        PaymentEvent,
        PaymentRef,
        RefundChargeInput,
        SetStatusInput,
    )
    from activities.refunds import ProviderRefundInput, RefundActivities
    from shop.models import GrantKind, PaymentMethod, PaymentStatus


class Resolution(enum.StrEnum):
    DELIVER = "deliver"
    REFUND = "refund"
    CLOSE = "close"


class ResolveInput(BaseModel):
    payment_id: str
    resolution: Resolution
    operator_id: int
    reason: str


class ResolveResult(BaseModel):
    status: PaymentStatus | None  # None: the payment was not in review (nothing done)


def resolution_workflow_id(payment_id: str) -> str:
    return f"payment-resolution:{payment_id}"


def notice_workflow_id(action_id: str) -> str:
    return f"customer-notice:{action_id}"


REFUNDABLE = frozenset({PaymentMethod.STARS, PaymentMethod.YOOKASSA})


def refundable(method: PaymentMethod, provider_payment_id: str | None) -> bool:
    """Where the shop can give the money back itself: a Stars charge (its id is the provider's) or a
    YooKassa payment (its refund API)."""
    return method in REFUNDABLE and bool(provider_payment_id)


def review_refund_key(payment_id: str) -> str:
    """The provider's idempotence key: a retried activity or a replayed run refunds once."""
    return f"review-refund:{payment_id}"


@workflow.defn
class ResolveReviewWorkflow(PaymentSteps):
    async def _status(self, order: Order, status: PaymentStatus, reason: str | None = None) -> None:
        await workflow.execute_activity_method(
            PaymentActivities.set_status,
            SetStatusInput(payment_id=order.payment_id, status=status, reason=reason),
            start_to_close_timeout=SHORT,
            heartbeat_timeout=ALIVE,
            retry_policy=PATIENT,
        )

    async def _deliver(self, order: Order, actor: str) -> None:
        await self._status(order, PaymentStatus.SUCCEEDED)
        await workflow.execute_activity_method(
            LedgerActivities.apply_grant,
            ApplyGrantInput(
                subscription_id=order.subscription_id,
                source_key=order.payment_id,
                seconds=order.seconds,
                kind=GrantKind.PURCHASE,
                actor=actor,
            ),
            start_to_close_timeout=SHORT,
            heartbeat_timeout=ALIVE,
            retry_policy=PATIENT,
        )
        await workflow.execute_child_workflow(
            ProvisionSubscriptionWorkflow.run,
            ProvisionInput(subscription_id=order.subscription_id),
            id=provision_workflow_id(order.subscription_id, f"payment:{order.payment_id}:resolved"),
        )
        await self._status(order, PaymentStatus.DELIVERED)
        await self._notify(order, PaymentEvent.DELIVERED)
        await self._reward_referrer(order)

    async def _refund(self, order: Order, provider_payment_id: str) -> None:
        if order.method is PaymentMethod.YOOKASSA:  # a new branch: no saved history took it
            await workflow.execute_activity_method(
                RefundActivities.refund_provider_payment,
                ProviderRefundInput(
                    payment_id=order.payment_id, idempotence_key=review_refund_key(order.payment_id)
                ),
                start_to_close_timeout=SHORT,
                retry_policy=PATIENT,
            )
            return
        await workflow.execute_activity_method(
            PaymentActivities.refund_stars_charge,
            RefundChargeInput(user_id=order.user_id, charge_id=provider_payment_id),
            start_to_close_timeout=SHORT,
            heartbeat_timeout=ALIVE,
            retry_policy=PATIENT,
        )

    @workflow.run
    async def run(self, inp: ResolveInput) -> ResolveResult:
        order = await workflow.execute_activity_method(
            PaymentActivities.load_order,
            PaymentRef(payment_id=inp.payment_id),
            start_to_close_timeout=SHORT,
            retry_policy=PATIENT,
        )
        if order is None or order.status is not PaymentStatus.REVIEW:
            return ResolveResult(status=None)
        if inp.resolution is Resolution.DELIVER:
            await self._deliver(order, f"operator:{inp.operator_id}")
            return ResolveResult(status=PaymentStatus.DELIVERED)
        if inp.resolution is Resolution.REFUND:
            if order.provider_payment_id is None or not refundable(order.method, order.provider_payment_id):
                return ResolveResult(status=None)  # the service offers it only where it can be done
            await self._refund(order, order.provider_payment_id)
            await self._status(order, PaymentStatus.REFUNDED, inp.reason)
            await self._notify(order, PaymentEvent.REFUND_APPLIED)
            return ResolveResult(status=PaymentStatus.REFUNDED)
        await self._status(order, PaymentStatus.CANCELED, inp.reason)
        return ResolveResult(status=PaymentStatus.CANCELED)


@workflow.defn
class CustomerNoticeWorkflow:
    @workflow.run
    async def run(self, inp: CustomerNoticeInput) -> bool:
        # One message (a text, or the card as one photo): on the bot's paced queue, in its pace.
        return await workflow.execute_activity_method(
            OperatorActivities.tell_customer,
            inp,
            task_queue=notices.paced_queue(),
            start_to_close_timeout=SHORT,
            retry_policy=PATIENT,
        )
