"""Telling a payment's workflow that something happened: signal-with-start, never a second run.

Used by the webhook handlers, the sweeper and the bot. Each call is durable once it returns. An
operator's P2P decision is an update instead: the operator is told whether theirs was the one.
"""

from __future__ import annotations

import enum
from datetime import timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import or_, select
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from shop.db import SessionFactory
from shop.models import Payment, PaymentMethod
from shop.payments.stars import StarsCharge
from shop.payments.status import FINAL
from workflows.payment import PaymentWorkflow
from workflows.payment_messages import (
    ProviderHint,
    TransferDecision,
    payment_input,
    start_search_attributes,
    workflow_id,
)
from workflows.refund import (
    RefundChargeWorkflow,
    RefundInput,
    RefundWorkflow,
    charge_workflow_id,
    refund_workflow_id,
)

DECISION_WAIT = timedelta(seconds=10)


class Delivery(enum.StrEnum):
    SIGNALED = "signaled"  # the workflow (running or just started) holds the signal
    CLOSED = "closed"  # the payment is already settled: nothing to do


async def find_payment(
    sessions: SessionFactory, method: PaymentMethod, provider_payment_id: str | None, order_ref: str | None
) -> Payment | None:
    """Ours by the provider's id, else by the order ref the provider echoed (a hint either way)."""
    conditions = []
    if provider_payment_id:
        conditions.append((Payment.method == method) & (Payment.provider_payment_id == provider_payment_id))
    if order_ref:
        conditions.append((Payment.id == order_ref[:40]) & (Payment.method == method))
    if not conditions:
        return None
    async with sessions() as session:
        found = (await session.scalars(select(Payment).where(or_(*conditions)))).all()
    by_provider = [p for p in found if provider_payment_id and p.provider_payment_id == provider_payment_id]
    candidates = by_provider or list(found)
    return candidates[0] if candidates else None


def start_options(payment: Payment, task_queue: str) -> dict[str, Any]:
    """How anything starts a payment's workflow (with a signal or an update): one run per payment,
    a running one joined, searchable from its start."""
    return {
        "id": workflow_id(payment.id),
        "task_queue": task_queue,
        "id_reuse_policy": WorkflowIDReusePolicy.REJECT_DUPLICATE,
        "id_conflict_policy": WorkflowIDConflictPolicy.USE_EXISTING,
        "search_attributes": start_search_attributes(payment),
    }


async def _signal_with_start(
    client: Client, task_queue: str, payment: Payment, signal: str, arg: object | None
) -> Delivery:
    try:
        await client.start_workflow(
            PaymentWorkflow.run,
            payment_input(payment),
            **start_options(payment, task_queue),
            start_signal=signal,
            start_signal_args=[] if arg is None else [arg],
        )
    except WorkflowAlreadyStartedError:
        return Delivery.CLOSED
    return Delivery.SIGNALED


async def check_provider(client: Client, task_queue: str, payment: Payment, source: str) -> Delivery:
    if payment.status in FINAL:
        return Delivery.CLOSED
    return await _signal_with_start(
        client, task_queue, payment, "check_provider", ProviderHint(source=source)
    )


async def record_stars_charge(
    client: Client, task_queue: str, sessions: SessionFactory, charge: StarsCharge
) -> Delivery:
    """The money is taken: the charge reaches the payment's workflow, or is refunded."""
    async with sessions() as session:
        payment = await session.get(Payment, charge.payload[:40])
    if payment is not None and payment.method is PaymentMethod.STARS and payment.user_id == charge.user_id:
        if payment.provider_payment_id == charge.charge_id:
            return Delivery.CLOSED  # the same update again
        if payment.status not in FINAL:
            delivered = await _signal_with_start(client, task_queue, payment, "record_stars_charge", charge)
            if delivered is Delivery.SIGNALED:
                return delivered
    # A charge no open payment can take (unknown payload, or a second invoice of a settled one).
    await refund_stars_charge(client, task_queue, charge)
    return Delivery.SIGNALED


async def _start_once(
    client: Client, run: Any, arg: BaseModel, workflow_id: str, task_queue: str
) -> Delivery:
    try:
        await client.start_workflow(
            run,
            arg,
            id=workflow_id,
            task_queue=task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )
    except WorkflowAlreadyStartedError:
        return Delivery.CLOSED
    return Delivery.SIGNALED


async def refund_stars_charge(client: Client, task_queue: str, charge: StarsCharge) -> Delivery:
    workflow_id = charge_workflow_id(charge.charge_id)
    return await _start_once(client, RefundChargeWorkflow.run, charge, workflow_id, task_queue)


async def start_refund(client: Client, task_queue: str, inp: RefundInput) -> Delivery:
    workflow_id = refund_workflow_id(inp.refund_key)
    return await _start_once(client, RefundWorkflow.run, inp, workflow_id, task_queue)


async def confirm_transfer(client: Client, task_queue: str, payment: Payment) -> Delivery:
    if payment.method is not PaymentMethod.P2P:
        return Delivery.CLOSED
    return await _signal_with_start(client, task_queue, payment, "confirm_transfer", None)


async def decide_transfer(client: Client, payment: Payment, approve: bool, operator_id: int) -> bool:
    """True when this decision is the one that counts; False when the transfer was already decided,
    or is not waiting for an operator (closed, never claimed)."""
    if payment.method is not PaymentMethod.P2P or payment.status in FINAL:
        return False
    handle = client.get_workflow_handle_for(PaymentWorkflow.run, workflow_id(payment.id))
    decision = TransferDecision(approve=approve, operator_id=operator_id)
    try:
        return await handle.execute_update(
            PaymentWorkflow.decide_transfer, decision, rpc_timeout=DECISION_WAIT
        )
    except RPCError as error:
        if error.status is RPCStatusCode.NOT_FOUND:  # the run has ended (or never started)
            return False
        raise
