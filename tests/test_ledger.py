import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from shop.access import ledger
from shop.access.ledger import UnknownSubscription, next_expiry
from shop.models import Grant, GrantKind, Subscription
from tests.conftest import Database
from tests.factories import subscriber

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def test_next_expiry_rules() -> None:
    assert next_expiry(None, 30 * DAY, NOW) == NOW + 30 * DAY
    assert next_expiry(NOW - 5 * DAY, 30 * DAY, NOW) == NOW + 30 * DAY  # expired: counts from now
    assert next_expiry(NOW + 5 * DAY, 30 * DAY, NOW) == NOW + 35 * DAY  # active: extends
    assert next_expiry(NOW + 10 * DAY, -3 * DAY, NOW) == NOW + 7 * DAY  # refund shortens
    assert next_expiry(NOW + 2 * DAY, -30 * DAY, NOW) == NOW  # never below now


async def test_grant_applies_once_and_stores_expiry(db: Database) -> None:
    sub = await subscriber(db.sessions)
    first = await ledger.grant(
        db.sessions, sub.id, "payment:p1", 30 * DAY, GrantKind.PURCHASE, "payment", NOW
    )
    again = await ledger.grant(
        db.sessions, sub.id, "payment:p1", 30 * DAY, GrantKind.PURCHASE, "payment", NOW
    )
    assert first.applied and not again.applied
    assert first.expires_at == again.expires_at == NOW + 30 * DAY
    async with db.sessions() as session:
        stored = await session.get(Subscription, sub.id)
        assert stored is not None
        assert stored.expires_at == NOW + 30 * DAY and stored.has_paid
        assert await session.scalar(select(func.count()).select_from(Grant)) == 1


async def test_trial_does_not_mark_paid_and_refund_shortens(db: Database) -> None:
    sub = await subscriber(db.sessions)
    await ledger.grant(db.sessions, sub.id, "trial:1001", 3 * DAY, GrantKind.TRIAL, "system", NOW)
    bought = await ledger.grant(
        db.sessions, sub.id, "payment:p2", 30 * DAY, GrantKind.PURCHASE, "payment", NOW
    )
    assert bought.expires_at == NOW + 33 * DAY
    refund = await ledger.grant(
        db.sessions, sub.id, "refund:r1", -30 * DAY, GrantKind.REFUND, "yookassa", NOW
    )
    assert refund.expires_at == NOW + 3 * DAY
    rows = await ledger.history(db.sessions, sub.id)
    assert [row.kind for row in rows] == [GrantKind.TRIAL, GrantKind.PURCHASE, GrantKind.REFUND]
    assert rows[-1].duration_seconds == -30 * 86400


async def test_unknown_subscription_changes_nothing(db: Database) -> None:
    try:
        await ledger.grant(db.sessions, 999_999, "payment:x", DAY, GrantKind.GIFT, "admin:1", NOW)
    except UnknownSubscription:
        pass
    else:
        raise AssertionError("a grant for a missing subscription must fail")
    async with db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Grant)) == 0


async def test_concurrent_grants_of_one_key_apply_once(db: Database) -> None:
    sub = await subscriber(db.sessions)
    results = await asyncio.gather(
        *(
            ledger.grant(db.sessions, sub.id, "payment:dup", 30 * DAY, GrantKind.PURCHASE, "p", NOW)
            for _ in range(50)
        )
    )
    assert sum(result.applied for result in results) == 1
    assert {result.expires_at for result in results} == {NOW + 30 * DAY}
    async with db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Grant)) == 1


async def test_concurrent_grants_of_different_keys_add_up(db: Database) -> None:
    sub = await subscriber(db.sessions)
    results = await asyncio.gather(
        *(
            ledger.grant(db.sessions, sub.id, f"gift:{i}", DAY, GrantKind.GIFT, "admin:1", NOW)
            for i in range(50)
        )
    )
    assert all(result.applied for result in results)
    async with db.sessions() as session:
        stored = await session.get(Subscription, sub.id)
        assert stored is not None and stored.expires_at == NOW + 50 * DAY
        expiries = sorted((await session.scalars(select(Grant.resulting_expiry))).all())
    assert expiries == [NOW + (i + 1) * DAY for i in range(50)]
