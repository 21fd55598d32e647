"""Which reminder is due, and claiming each one once, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from shop.access import ledger
from shop.customers.accounts import register_user
from shop.customers.users import mark_bot_blocked
from shop.messaging import reminders
from shop.messaging.pacing import RateLimiter
from shop.messaging.reminders import Mark, ReminderPolicy, due_mark, parse_marks
from shop.models import GrantKind, Reminder, ReminderStatus, User
from tests.conftest import Database
from tests.factories import subscriber

NOW = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
POLICY = ReminderPolicy(
    paid=parse_marks("-72h,-24h,-1h,0h,+24h"), trial=parse_marks("-24h,0h"), grace=timedelta(hours=24)
)


def test_parse_marks_sorts_and_names() -> None:
    marks = parse_marks("+24h, 0h,-1h,-3d,-24h")
    assert [mark.name for mark in marks] == ["-72h", "-24h", "-1h", "0h", "+24h"]
    assert [mark.kind for mark in marks] == ["soon", "soon", "soon", "expired", "winback"]


@pytest.mark.parametrize("spec", ["", "24", "-24m", "tomorrow", "-24h,,0h"])
def test_parse_marks_rejects_bad_specs(spec: str) -> None:
    with pytest.raises(ValueError, match="mark"):
        parse_marks(spec)


@pytest.mark.parametrize(
    ("before_expiry", "expected"),
    [
        (timedelta(hours=80), None),
        (timedelta(hours=72), "-72h"),
        (timedelta(hours=30), "-72h"),
        (timedelta(hours=24), "-24h"),
        (timedelta(minutes=59), "-1h"),
        (timedelta(0), "0h"),
        (-timedelta(hours=23), "0h"),
        (-timedelta(hours=24), "+24h"),
        (-timedelta(hours=48), "+24h"),  # 24 h late: still within grace
        (-timedelta(hours=49), None),  # too late to be useful
    ],
)
def test_due_mark_is_the_latest_fired_within_grace(before_expiry: timedelta, expected: str | None) -> None:
    mark = due_mark(NOW + before_expiry, NOW, POLICY.paid, POLICY.grace)
    assert (mark.name if mark else None) == expected


def test_after_downtime_only_the_most_relevant_mark_is_due() -> None:
    expires = NOW + 30 * 60 * timedelta(seconds=1)  # 30 min left; the -72h and -24h runs were missed
    assert due_mark(expires, NOW, POLICY.paid, POLICY.grace) == Mark(-HOUR)


async def _expiring(db: Database, telegram_id: int, left: timedelta, paid: bool = True) -> int:
    sub = await subscriber(db.sessions, telegram_id, f"user{telegram_id}")
    kind = GrantKind.PURCHASE if paid else GrantKind.TRIAL
    when = NOW + left - timedelta(days=30)
    await ledger.grant(db.sessions, sub.id, f"src:{telegram_id}", timedelta(days=30), kind, "t", when)
    return sub.id


async def _rows(db: Database) -> list[tuple[int, str, ReminderStatus]]:
    async with db.sessions() as session:
        found = await session.execute(
            select(Reminder.subscription_id, Reminder.mark, Reminder.status).order_by(Reminder.id)
        )
        return [tuple(row) for row in found]  # type: ignore[misc]


async def test_claim_is_once_per_subscription_expiry_and_mark(db: Database) -> None:
    soon = await _expiring(db, 1, 20 * HOUR)
    trial = await _expiring(db, 2, 20 * HOUR, paid=False)
    far = await _expiring(db, 3, 10 * 24 * HOUR)
    expired = await _expiring(db, 4, -2 * HOUR)
    first = await reminders.claim_due(db.sessions, POLICY, NOW)
    assert len(first) == 3
    assert sorted((sub, mark) for sub, mark, _ in await _rows(db)) == sorted(
        [(soon, "-24h"), (trial, "-24h"), (expired, "0h")]
    )
    assert far not in {sub for sub, _, _ in await _rows(db)}
    # A second scan (overlap, retry, second worker) claims nothing new; unsent rows come back.
    again = await reminders.claim_due(db.sessions, POLICY, NOW + timedelta(minutes=5))
    assert again == first
    assert len(await _rows(db)) == 3


async def test_renewal_starts_a_fresh_cycle(db: Database) -> None:
    sub = await _expiring(db, 1, 20 * HOUR)
    [claimed] = await reminders.claim_due(db.sessions, POLICY, NOW)
    await reminders.record(db.sessions, claimed, ReminderStatus.SENT, NOW)
    await ledger.grant(db.sessions, sub, "payment:renew", timedelta(days=30), GrantKind.PURCHASE, "t", NOW)
    assert await reminders.claim_due(db.sessions, POLICY, NOW) == []
    # 27 days later the renewed expiry reaches its own -72h mark, which was never sent.
    later = NOW + timedelta(days=27, hours=20)
    [fresh] = await reminders.claim_due(db.sessions, POLICY, later)
    rows = await _rows(db)
    assert [(mark, status) for _, mark, status in rows] == [
        ("-24h", ReminderStatus.SENT),
        ("-72h", ReminderStatus.PENDING),
    ]
    assert fresh != claimed


async def test_outgoing_is_skipped_after_renewal_ban_block_or_a_later_mark(db: Database) -> None:
    renewed = await _expiring(db, 1, 20 * HOUR)
    for telegram_id in (2, 3, 4):
        await _expiring(db, telegram_id, 20 * HOUR)
    ids = await reminders.claim_due(db.sessions, POLICY, NOW)
    assert len(ids) == 4
    await ledger.grant(db.sessions, renewed, "payment:r", timedelta(days=30), GrantKind.PURCHASE, "t", NOW)
    async with db.sessions() as session, session.begin():
        await session.execute(update(User).where(User.id == 2).values(banned=True))
    await mark_bot_blocked(db.sessions, 3, NOW)
    outgoing = [await reminders.load_outgoing(db.sessions, POLICY, rid, NOW) for rid in ids]
    assert [(o.user_id, o.mark) for o in outgoing if o] == [(4, "-24h")]
    statuses = [status for _, _, status in await _rows(db)]
    assert statuses.count(ReminderStatus.SKIPPED) == 3

    # The -24h reminder of user 4 was never sent (say the worker died); by the time the next
    # scan runs, -1h has fired: only that one goes out, not both.
    later = NOW + timedelta(hours=19, minutes=30)
    await register_user(db.sessions, 3, "user3", "user3")  # user 3 talks to the bot again
    pending = await reminders.claim_due(db.sessions, POLICY, later)
    outgoing = [await reminders.load_outgoing(db.sessions, POLICY, rid, later) for rid in pending]
    assert sorted((o.user_id, o.mark) for o in outgoing if o) == [(3, "-1h"), (4, "-1h")]


async def test_cleanup_never_deletes_a_row_that_could_be_claimed_again(db: Database) -> None:
    await _expiring(db, 1, 20 * HOUR)
    [sent] = await reminders.claim_due(db.sessions, POLICY, NOW)
    await reminders.record(db.sessions, sent, ReminderStatus.SENT, NOW)
    keep = timedelta(days=1)
    # A day later the row is old enough, but its expiry is still inside the claim window.
    assert await reminders.delete_finished(db.sessions, POLICY, NOW + timedelta(days=2), keep) == 0
    assert await reminders.claim_due(db.sessions, POLICY, NOW) == []
    assert len(await _rows(db)) == 1
    # Once the expiry has left every window, the row goes.
    assert await reminders.delete_finished(db.sessions, POLICY, NOW + timedelta(days=4), keep) == 1
    assert await _rows(db) == []


async def test_rate_limiter_spaces_permits_and_honours_retry_after() -> None:
    clock = [100.0]
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(round(seconds, 6))

    limiter = RateLimiter(25, clock=lambda: clock[0], sleep=sleep)
    for _ in range(3):
        await limiter.acquire()
    assert slept == [0.04, 0.08]  # permits at 100.00, 100.04, 100.08
    limiter.pause(5)
    await limiter.acquire()
    assert slept[-1] == 5.0
    with pytest.raises(ValueError):
        RateLimiter(0)
