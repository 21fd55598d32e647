"""`record_paid` (paid, then the grant) run again on a payment already delivered: a lean payment's
local steps from "paid" to "delivered" can share one workflow task (the hosts' first tries run in
it), and a worker killed before that task completes has them all run again. The step then finds
its work done instead of refusing and failing the payment's run; a payment that went elsewhere
(refunded) is still refused."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from temporalio.exceptions import ApplicationError

from activities.ledger import ApplyGrantInput
from activities.payments import PaymentActivities, RecordPaidInput
from shop.models import Grant, GrantKind, Payment, PaymentStatus
from shop.payments.status import transition
from tests.conftest import Database, make_context
from tests.factories import delivered_payment, subscriber


async def _setup(
    db: Database, user_id: int, refunded: bool
) -> tuple[PaymentActivities, Payment, RecordPaidInput]:
    ctx = make_context(db, None, "record-paid")
    sub = await subscriber(db.sessions, user_id)
    payment = await delivered_payment(db.sessions, await ctx.storefront.current(), user_id)
    if refunded:
        await transition(db.sessions, payment.id, PaymentStatus.REFUNDED)
    grant = ApplyGrantInput(
        subscription_id=sub.id,
        source_key=payment.id,
        seconds=30 * 86400,
        kind=GrantKind.PURCHASE,
        actor="payment:yookassa",
    )
    activities = PaymentActivities(ctx.sessions, ctx.settings, ctx.storefront, {}, None)
    paid = RecordPaidInput(payment_id=payment.id, provider_payment_id="pp-1", grant=grant)
    return activities, payment, paid


async def _state(db: Database, payment_id: str) -> tuple[PaymentStatus | None, int]:
    async with db.sessions() as session:
        status = await session.scalar(select(Payment.status).where(Payment.id == payment_id))
        grants = list(await session.scalars(select(Grant.id).where(Grant.source_key == payment_id)))
    return status, len(grants)


async def test_paid_again_after_the_delivery_redoes_nothing_and_is_not_refused(db: Database) -> None:
    activities, payment, paid = await _setup(db, 4801, refunded=False)
    for _ in range(2):  # the lost task's step, then a retry of it
        await activities.record_paid(paid)
    assert await _state(db, payment.id) == (PaymentStatus.DELIVERED, 1)


async def test_paid_after_a_refund_is_still_refused(db: Database) -> None:
    activities, payment, paid = await _setup(db, 4802, refunded=True)
    with pytest.raises(ApplicationError) as refused:
        await activities.record_paid(paid)
    assert refused.value.type == "TransitionRefused" and refused.value.non_retryable
    assert await _state(db, payment.id) == (PaymentStatus.REFUNDED, 0)
