"""`record_paid` (paid, then the grant) run again on a payment already delivered: a lean payment's
local steps from "paid" to "delivered" can share one workflow task (the hosts' first tries run in
it), and a worker killed before that task completes has them all run again. The step then finds
its work done instead of refusing and failing the payment's run; a payment that went elsewhere
(refunded) is still refused. A compact run's "paid" also lists the hosts to try, and its card's
composing records "delivered"."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from temporalio.exceptions import ApplicationError

from activities.ledger import ApplyGrantInput
from activities.payments import NotifyInput, PaymentActivities, PaymentEvent, RecordPaidInput
from shop.models import Grant, GrantKind, Host, Payment, PaymentStatus
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


async def test_paid_lists_the_enabled_hosts_in_the_operators_order_when_asked(db: Database) -> None:
    """A compact run takes the hosts to try from "paid" (one step less): the enabled ones, by
    sort order; a retry lists them again and grants nothing twice."""
    activities, payment, paid = await _setup(db, 4803, refunded=False)
    async with db.sessions() as session, session.begin():
        session.add_all(
            [
                Host(name="late", panel_url="https://late.example/", inbound_id=1, sort_order=2),
                Host(name="off", panel_url="https://off.example/", inbound_id=1, enabled=False),
                Host(name="early", panel_url="https://early.example/", inbound_id=1, sort_order=1),
            ]
        )
    async with db.sessions() as session:
        ids = {row.name: row.id for row in await session.scalars(select(Host))}
    assert await activities.record_paid(paid) is None  # not asked: a lean run lists them itself
    asked = paid.model_copy(update={"list_hosts": True})
    for _ in range(2):
        assert await activities.record_paid(asked) == [ids["early"], ids["late"]]
    assert await _state(db, payment.id) == (PaymentStatus.DELIVERED, 1)


async def test_composing_the_card_records_delivered_once_and_a_refunded_payment_is_refused(
    db: Database,
) -> None:
    """A compact run records "delivered" in the step that composes the card; run again (a retry, a
    lost workflow task) it finds the move made; a payment an operator refunded meanwhile is not
    moved back, and the step fails for good (as `set_status` does)."""
    activities, payment, _paid = await _setup(db, 4804, refunded=False)
    async with db.sessions() as session, session.begin():
        row = await session.get(Payment, payment.id)
        assert row is not None
        row.status = PaymentStatus.SUCCEEDED  # paid and granted, the card not yet composed
    card = NotifyInput(payment_id=payment.id, event=PaymentEvent.DELIVERED, record_delivered=True)
    for _ in range(2):
        assert await activities.compose_notices(card) == []  # no bot configured: nothing to send
        assert (await _state(db, payment.id))[0] is PaymentStatus.DELIVERED

    refunded, gone, _paid = await _setup(db, 4805, refunded=True)
    with pytest.raises(ApplicationError) as refused:
        await refunded.compose_notices(card.model_copy(update={"payment_id": gone.id}))
    assert refused.value.type == "TransitionRefused" and refused.value.non_retryable
    assert (await _state(db, gone.id))[0] is PaymentStatus.REFUNDED
