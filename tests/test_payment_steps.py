"""The payment steps' Core reads and writes (issue 14), on both databases: a status move and its
timeline line commit together and illegal moves are still refused, a repeated record_paid grants
once, one statement reads what loading the order and composing its notices need, and a webhook's
lookup prefers the provider's id."""

from __future__ import annotations

import pytest

from activities.ledger import ApplyGrantInput
from activities.payments import PaymentActivities, PaymentRef, RecordPaidInput
from shop.access import ledger
from shop.models import GrantKind, PaymentMethod, PaymentPurpose, PaymentStatus, Product
from shop.payments.facts import payment_facts
from shop.payments.hints import find_payment
from shop.payments.service import record_payment
from shop.payments.status import transition
from shop.payments.timeline import EventKind, events
from shop.transitions import TransitionRefused
from tests.conftest import Database, make_context
from tests.factories import plan, subscriber

S = PaymentStatus


async def _payment(db: Database, payment_id: str = "pay-1", user_id: int = 1001) -> tuple[str, int]:
    ctx = make_context(db, None, "steps")
    sub = await subscriber(db.sessions, user_id, f"u{user_id}")
    offer = await plan(db.sessions, days=30)
    owner = await ctx.storefront.current()
    payment = await record_payment(db.sessions, owner, payment_id, user_id, offer.id, PaymentMethod.YOOKASSA)
    return payment.id, sub.id


async def _status_lines(db: Database, payment_id: str) -> list[str]:
    return [e.detail for e in await events(db.sessions, payment_id) if e.kind == EventKind.STATUS]


async def test_a_move_writes_its_line_once_and_illegal_moves_are_refused(db: Database) -> None:
    payment_id, _ = await _payment(db)
    moved = await transition(
        db.sessions, payment_id, S.PENDING, noted_by="workflow", provider_payment_id="yk-1"
    )
    again = await transition(db.sessions, payment_id, S.PENDING, noted_by="workflow")
    assert (moved, again) == (S.CREATED, S.PENDING)
    assert await _status_lines(db, payment_id) == ["created → pending"]  # the retry adds none

    with pytest.raises(TransitionRefused):
        await transition(db.sessions, payment_id, S.DELIVERED, noted_by="workflow")  # never paid
    facts = await payment_facts(db.sessions, payment_id)
    assert facts is not None
    assert (facts.status, facts.provider_payment_id) == (S.PENDING, "yk-1")
    assert await _status_lines(db, payment_id) == ["created → pending"]  # a refused move writes none

    await transition(db.sessions, payment_id, S.CANCELED, noted_by="operator", reason="asked to")
    with pytest.raises(TransitionRefused):
        await transition(db.sessions, payment_id, S.SUCCEEDED)  # canceled is final for money
    assert await _status_lines(db, payment_id) == ["created → pending", "pending → canceled: asked to"]


async def test_a_repeated_record_paid_grants_once(db: Database) -> None:
    payment_id, sub_id = await _payment(db)
    ctx = make_context(db, None, "steps")
    acts = PaymentActivities(db.sessions, ctx.settings, ctx.storefront, {}, None)
    grant = ApplyGrantInput(
        subscription_id=sub_id,
        source_key=f"payment:{payment_id}",
        seconds=30 * 86400,
        kind=GrantKind.PURCHASE,
        actor="workflow",
    )
    paid = RecordPaidInput(payment_id=payment_id, provider_payment_id="yk-1", grant=grant)
    await acts.record_paid(paid)
    await acts.record_paid(paid)  # a retried activity

    grants = await ledger.history(db.sessions, sub_id)
    assert [g.source_key for g in grants] == [f"payment:{payment_id}"]
    facts = await payment_facts(db.sessions, payment_id)
    assert facts is not None and facts.status is S.SUCCEEDED
    assert facts.expires_at == grants[0].resulting_expiry
    assert await _status_lines(db, payment_id) == ["created → succeeded"]
    granted = [e.detail for e in await events(db.sessions, payment_id) if e.kind == EventKind.GRANT]
    assert len(granted) == 2 and granted[1].endswith("(already)")


async def test_one_read_serves_the_order_and_its_notices(db: Database) -> None:
    payment_id, sub_id = await _payment(db)
    facts = await payment_facts(db.sessions, payment_id)
    assert facts is not None
    assert (facts.user_id, facts.subscription_id, facts.language) == (1001, sub_id, "ru")
    assert (facts.plan_name, facts.days, facts.product) == ("Month", 30, Product.VPN)
    assert facts.purpose is PaymentPurpose.SUBSCRIPTION and facts.subscription_token
    assert await payment_facts(db.sessions, "nobody") is None

    ctx = make_context(db, None, "steps")
    acts = PaymentActivities(db.sessions, ctx.settings, ctx.storefront, {}, None)
    order = await acts.load_order(PaymentRef(payment_id=payment_id))
    assert order is not None
    assert (order.subscription_id, order.seconds, order.status) == (sub_id, 30 * 86400, S.CREATED)
    assert order.description.endswith(": Month") and order.amount == facts.amount
    assert await acts.load_order(PaymentRef(payment_id="nobody")) is None


async def test_a_hint_finds_its_payment_by_the_providers_id_first(db: Database) -> None:
    first, _ = await _payment(db, "pay-1", 1001)
    second, _ = await _payment(db, "pay-2", 1002)
    await transition(db.sessions, first, S.PENDING, provider_payment_id="yk-1")
    # The provider's id wins over an order ref naming another payment.
    found = await find_payment(db.sessions, PaymentMethod.YOOKASSA, "yk-1", second)
    assert found is not None and (found.id, found.status, found.user_id) == (first, S.PENDING, 1001)
    by_ref = await find_payment(db.sessions, PaymentMethod.YOOKASSA, None, second)
    assert by_ref is not None and by_ref.id == second
    assert await find_payment(db.sessions, PaymentMethod.CRYPTOPAY, "yk-1", None) is None  # other method
    assert await find_payment(db.sessions, PaymentMethod.YOOKASSA, None, None) is None
