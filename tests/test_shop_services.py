"""The domain services the bot calls (shop/users, admin, stats, trial), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal

import pytest

from shop.access.ledger import grant, history
from shop.access.trial import TrialRefusal, TrialUnavailable, start_trial, trial_refusal
from shop.context import AppContext
from shop.customers import admin, stats, users
from shop.customers.accounts import ensure_subscription
from shop.models import GrantKind, Payment, PaymentMethod, PaymentStatus, utcnow
from tests.conftest import Database, make_context
from tests.factories import host, plan, subscriber


async def test_access_states_days_left_and_servers(db: Database) -> None:
    sessions = db.sessions
    await users.register(sessions, 1, "amy", "Amy", "en")
    assert (await users.access_of(sessions, 1)).state is users.AccessState.NONE
    await host(sessions, "A")
    await host(sessions, "B")
    subscription = await ensure_subscription(sessions, 1)
    now = utcnow()
    await grant(sessions, subscription.id, "trial:1", timedelta(days=3), GrantKind.TRIAL, "t", now=now)
    trial = await users.access_of(sessions, 1, now=now + timedelta(hours=1))
    assert (trial.state, trial.days_left, trial.servers) == (users.AccessState.TRIAL, 3, 2)
    await grant(sessions, subscription.id, "pay:1", timedelta(days=30), GrantKind.PURCHASE, "t", now=now)
    paid = await users.access_of(sessions, 1, now=now)
    assert (paid.state, paid.days_left, paid.has_paid) == (users.AccessState.ACTIVE, 33, True)
    expired = await users.access_of(sessions, 1, now=now + timedelta(days=34))
    assert (expired.state, expired.days_left, expired.active) == (users.AccessState.EXPIRED, 0, False)


async def test_find_customer_by_id_or_username_in_any_case(db: Database) -> None:
    await users.register(db.sessions, 10, "Wendy_W", "Wendy", "en")
    for query in ("10", "@wendy_w", "WENDY_W", " @Wendy_W "):
        found = await admin.find_customer(db.sessions, query)
        assert found is not None and found.id == 10, query
    for query in ("11", "@nobody", "@", ""):
        assert await admin.find_customer(db.sessions, query) is None


async def test_ban_flag_changes_once(db: Database) -> None:
    await users.register(db.sessions, 20, None, "Ban Me", "ru")
    assert await admin.set_banned(db.sessions, 20, True) is True
    assert await admin.set_banned(db.sessions, 20, True) is False
    assert await admin.set_banned(db.sessions, 99, True) is False
    customer = await users.get_customer(db.sessions, 20)
    assert customer is not None and customer.banned
    assert await admin.set_banned(db.sessions, 20, False) is True


async def test_language_and_terms(db: Database) -> None:
    await users.register(db.sessions, 30, None, "Lang", "ru")
    await users.set_language(db.sessions, 30, "en")
    with pytest.raises(ValueError, match="unsupported language"):
        await users.set_language(db.sessions, 30, "de")
    await users.accept_terms(db.sessions, 30)
    customer = await users.get_customer(db.sessions, 30)
    assert customer is not None and (customer.language, customer.terms_accepted) == ("en", True)


async def test_stats_count_revenue_by_currency_and_window(db: Database) -> None:
    await users.register(db.sessions, 40, None, "Payer", "ru")
    await users.register(db.sessions, 41, None, "Banned", "ru")
    await admin.set_banned(db.sessions, 41, True)
    plan_id = (await plan(db.sessions)).id
    now = utcnow().replace(hour=12)
    rows = [
        ("a", PaymentStatus.DELIVERED, "199", "RUB", now),
        ("b", PaymentStatus.SUCCEEDED, "150", "XTR", now - timedelta(hours=1)),
        ("c", PaymentStatus.DELIVERED, "500", "RUB", now - timedelta(days=5)),
        ("d", PaymentStatus.DELIVERED, "900", "RUB", now - timedelta(days=31)),
        ("e", PaymentStatus.REVIEW, "199", "RUB", None),
        ("f", PaymentStatus.CANCELED, "199", "RUB", now),
    ]
    async with db.sessions() as session, session.begin():
        for payment_id, status, amount, currency, paid_at in rows:
            payment = Payment(id=payment_id, user_id=40, plan_id=plan_id, method=PaymentMethod.P2P)
            payment.amount, payment.currency, payment.status = Decimal(amount), currency, status
            payment.paid_at = paid_at
            session.add(payment)
    numbers = await stats.shop_stats(db.sessions, now=now)
    assert (numbers.users, numbers.banned, numbers.waiting_review) == (2, 1, 1)
    assert numbers.revenue_today == {"RUB": Decimal("199"), "XTR": Decimal("150")}
    assert numbers.revenue_30_days == {"RUB": Decimal("699"), "XTR": Decimal("150")}
    assert [item.payment_id for item in await stats.waiting_review(db.sessions)] == ["e"]


async def test_trial_claim_is_atomic_under_a_double_tap(running_worker: AppContext) -> None:
    ctx = running_worker
    await subscriber(ctx.sessions, 50, "Tapper")
    results = await asyncio.gather(start_trial(ctx, 50), start_trial(ctx, 50), return_exceptions=True)
    refused = [r for r in results if isinstance(r, TrialUnavailable)]
    assert len(refused) == 1 and refused[0].reason is TrialRefusal.USED
    subscription = await ensure_subscription(ctx.sessions, 50)
    assert [g.source_key for g in await history(ctx.sessions, subscription.id)] == ["trial:50"]
    assert await trial_refusal(ctx.sessions, await ctx.storefront.current(), 50) is TrialRefusal.USED


async def test_trial_claim_is_released_when_temporal_is_unavailable(
    sqlite_db: Database, task_queue: str
) -> None:
    ctx = make_context(sqlite_db, None, task_queue)
    await subscriber(ctx.sessions, 60, "Unlucky")
    with pytest.raises(RuntimeError, match="no Temporal client"):
        await start_trial(ctx, 60)
    assert await trial_refusal(ctx.sessions, await ctx.storefront.current(), 60) is None


async def test_adjustments_validate_and_apply_once(running_worker: AppContext) -> None:
    ctx = running_worker
    await subscriber(ctx.sessions, 70, "Gifted")
    first = await admin.adjust_days(ctx, 900, 70, 30, "nonce-1")
    again = await admin.adjust_days(ctx, 900, 70, 30, "nonce-1")
    assert (first.first, again.first, again.expires_at) == (True, False, first.expires_at)
    removed = await admin.adjust_days(ctx, 900, 70, -10, "nonce-2")
    assert removed.expires_at == first.expires_at - timedelta(days=10)
    for days, nonce in ((0, "nonce-3"), (5000, "nonce-3"), (5, "bad nonce!")):
        with pytest.raises(ValueError):
            await admin.adjust_days(ctx, 900, 70, days, nonce)
    with pytest.raises(LookupError):
        await admin.adjust_days(ctx, 900, 71, 5, "nonce-4")
