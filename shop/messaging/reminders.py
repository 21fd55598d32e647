"""Expiry reminders: which mark is due for a subscription, claiming it once, recording the outcome.

A mark is an offset from the expiry (`-24h` fires a day before, `+24h` a day after). A reminder
is claimed by inserting its row, UNIQUE on (subscription, expiry, mark), before it is sent, so an
overlapping scan, a retried activity or a second worker cannot send it twice; a renewal moves the
expiry and so starts a fresh cycle of marks.

The Telegram proxy has reminders of its own, on its own expiry (`subscriptions.proxy_expires_at`):
their marks carry the `proxy` prefix (e.g. `proxy-24h`), so the two products never share a row.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from shop.access.ledger import expiry_column
from shop.db import SessionFactory
from shop.models import Product, Reminder, ReminderStatus, Subscription, User

_MARK = re.compile(r"^([+-]?)(\d+)([hd])$")
PROXY_PREFIX = "proxy"


def product_of(mark_name: str) -> tuple[Product, str]:
    """A stored mark's product and its plain mark (`proxy-24h` -> PROXY, `-24h`)."""
    if mark_name.startswith(PROXY_PREFIX):
        return Product.PROXY, mark_name.removeprefix(PROXY_PREFIX)
    return Product.VPN, mark_name


@dataclass(frozen=True, order=True)
class Mark:
    offset: timedelta  # fire time = expiry + offset

    @property
    def name(self) -> str:
        hours = int(self.offset.total_seconds() // 3600)
        return f"{hours:+d}h" if hours else "0h"

    @property
    def kind(self) -> str:
        """What the message says: before expiry, at expiry, or after it (win-back)."""
        if self.offset < timedelta(0):
            return "soon"
        return "expired" if self.offset == timedelta(0) else "winback"


def parse_marks(spec: str) -> tuple[Mark, ...]:
    """`"-72h,-24h,-1h,0h,+24h"` -> marks, sorted; raises ValueError naming a bad item."""
    marks = set()
    for item in (part.strip() for part in spec.split(",")):
        found = _MARK.match(item)
        if not found:
            raise ValueError(f"bad reminder mark {item!r}: use offsets like -24h, 0h, +1d")
        sign, number, unit = found.groups()
        hours = int(number) * (24 if unit == "d" else 1)
        marks.add(Mark(timedelta(hours=-hours if sign == "-" else hours)))
    if not marks:
        raise ValueError("no reminder marks given")
    return tuple(sorted(marks))


@dataclass(frozen=True)
class ReminderPolicy:
    paid: tuple[Mark, ...]
    trial: tuple[Mark, ...]
    grace: timedelta  # how late a missed mark may still be sent

    def marks_for(self, has_paid: bool, product: Product = Product.VPN) -> tuple[Mark, ...]:
        # The proxy is only ever bought: its reminders follow the paid marks.
        return self.paid if has_paid or product is Product.PROXY else self.trial

    def window(self, now: datetime) -> tuple[datetime, datetime]:
        """Expiries for which some mark can be due at `now` (an index range on expires_at)."""
        offsets = [mark.offset for mark in (*self.paid, *self.trial)]
        return now - max(offsets) - self.grace, now - min(offsets)


def due_mark(expires_at: datetime, now: datetime, marks: Sequence[Mark], grace: timedelta) -> Mark | None:
    """The one mark to send now: the latest that has fired.

    After downtime a subscription that missed several marks gets only this most relevant one. A
    mark stays due until the next one fires; the last mark only for `grace` after it fired.
    """
    fired = [mark for mark in marks if expires_at + mark.offset <= now]
    if not fired:
        return None
    latest = max(fired)
    if latest == max(marks) and now - (expires_at + latest.offset) > grace:
        return None
    return latest


@dataclass(frozen=True)
class Claim:
    reminder_id: int
    subscription_id: int
    user_id: int
    expires_at: datetime
    mark: str


async def claim_due(
    sessions: SessionFactory, policy: ReminderPolicy, now: datetime, product: Product = Product.VPN
) -> list[int]:
    """Insert a row for every reminder of `product` due now and return the ids of rows still to send
    (of either product). Rows claimed earlier but never sent (a worker died between claim and send)
    are returned too.
    """
    low, high = policy.window(now)
    column = expiry_column(product)
    prefix = PROXY_PREFIX if product is Product.PROXY else ""
    async with sessions() as session, session.begin():
        # Marks already claimed for the current expiry come along, so a repeat scan inserts nothing.
        unreachable = (
            select(User.id)
            .where(User.id == Subscription.user_id, User.banned | User.bot_blocked_at.is_not(None))
            .exists()
        )
        candidates = await session.execute(
            select(Subscription.id, column, Subscription.has_paid, Reminder.mark)
            .outerjoin(
                Reminder,
                (Reminder.subscription_id == Subscription.id) & (Reminder.expires_at == column),
            )
            .where(
                column >= low,
                column <= high,
                ~unreachable,
            )
        )
        claimed: dict[int, set[str]] = {}
        expiries: dict[int, tuple[datetime, bool]] = {}
        for subscription_id, expires_at, has_paid, mark_name in candidates:
            if expires_at is not None:  # always, inside the window; for the type checker
                expiries[subscription_id] = (expires_at, has_paid)
            marks = claimed.setdefault(subscription_id, set())
            if mark_name:
                marks.add(mark_name)
        rows: list[dict[str, object]] = []
        for subscription_id, (expires_at, has_paid) in expiries.items():
            mark = due_mark(expires_at, now, policy.marks_for(has_paid, product), policy.grace)
            if mark and prefix + mark.name not in claimed[subscription_id]:
                rows.append(
                    {
                        "subscription_id": subscription_id,
                        "expires_at": expires_at,
                        "mark": prefix + mark.name,
                        "status": ReminderStatus.PENDING,
                        "created_at": now,
                    }
                )
        if rows:
            dialect = session.get_bind().dialect.name
            insert = pg_insert if dialect == "postgresql" else sqlite_insert
            for chunk in _chunks(rows, 500):
                # A concurrent scan may have claimed the same rows a moment ago: theirs stand.
                await session.execute(insert(Reminder).values(chunk).on_conflict_do_nothing())
        pending = await session.scalars(
            select(Reminder.id)
            .where(Reminder.status == ReminderStatus.PENDING, Reminder.created_at >= now - policy.grace)
            .order_by(Reminder.id)
        )
        return list(pending)


def _chunks(rows: list[dict[str, object]], size: int) -> list[list[dict[str, object]]]:
    return [rows[start : start + size] for start in range(0, len(rows), size)]


@dataclass(frozen=True)
class Outgoing:
    """A claimed reminder that is still worth sending, with what the message needs."""

    reminder_id: int
    user_id: int
    language: str
    mark: str  # without the product's prefix
    expires_at: datetime
    has_paid: bool
    product: Product = Product.VPN


async def load_outgoing(
    sessions: SessionFactory, policy: ReminderPolicy, reminder_id: int, now: datetime
) -> Outgoing | None:
    """The reminder if it is still pending and still the one to send: no renewal, ban or block
    since it was claimed, and no later mark has superseded it while it waited."""
    async with sessions() as session:
        found = (
            await session.execute(
                select(Reminder, Subscription, User)
                .join(Subscription, Subscription.id == Reminder.subscription_id)
                .join(User, User.id == Subscription.user_id)
                .where(Reminder.id == reminder_id)
            )
        ).first()
    if found is None:
        return None
    reminder, subscription, user = found
    if reminder.status is not ReminderStatus.PENDING:
        return None
    product, mark = product_of(reminder.mark)
    current = subscription.proxy_expires_at if product is Product.PROXY else subscription.expires_at
    due = due_mark(reminder.expires_at, now, policy.marks_for(subscription.has_paid, product), policy.grace)
    stale = current != reminder.expires_at or due is None or due.name != mark
    if stale or user.banned or user.bot_blocked_at is not None:
        await record(sessions, reminder_id, ReminderStatus.SKIPPED)
        return None
    return Outgoing(
        reminder_id, user.id, user.language, mark, reminder.expires_at, subscription.has_paid, product
    )


async def record(
    sessions: SessionFactory,
    reminder_id: int,
    status: ReminderStatus,
    now: datetime | None = None,
    error: str | None = None,
) -> None:
    values: dict[str, object] = {"status": status, "error": error}
    if status is ReminderStatus.SENT:
        values["sent_at"] = now
    async with sessions() as session, session.begin():
        await session.execute(update(Reminder).where(Reminder.id == reminder_id).values(values))


async def delete_finished(
    sessions: SessionFactory, policy: ReminderPolicy, now: datetime, keep: timedelta
) -> int:
    """Delete rows kept `keep` long whose expiry no scan can claim again (else they would resend)."""
    cutoff = min(now - keep, policy.window(now)[0])
    async with sessions() as session, session.begin():
        result = await session.execute(
            delete(Reminder).where(Reminder.expires_at < cutoff, Reminder.created_at < now - keep)
        )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
