"""The console's customer list: one search box (Telegram id, @username, name, subscription token,
panel email), filters by state and referrer, newest first, paged by keyset so page 2000 costs what
page 1 does at any size (indexes: users (created_at, id), lower(username), a trigram index on
lower(full_name), panel_clients.email).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, and_, false, func, literal, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from shop.db import SessionFactory
from shop.models import PanelClient, Subscription, User, UTCDateTime, utcnow

PAGE = 50


class State(enum.StrEnum):
    ANY = ""
    PAID = "paid"  # active, paid at least once
    TRIAL = "trial"  # active, never paid
    EXPIRED = "expired"
    BANNED = "banned"
    BLOCKED = "blocked"  # blocked the bot
    TRIAL_USED = "trial_used"  # took the trial and paid since (the dashboard's conversion)
    NEVER = "never"  # never had access


@dataclass(frozen=True)
class Filters:
    q: str = ""
    state: State = State.ANY
    referrer: int | None = None
    renewal_within_days: int | None = None  # paid, ending within this many days


@dataclass(frozen=True)
class Row:
    id: int
    username: str | None
    full_name: str
    created_at: datetime
    banned: bool
    blocked: bool
    expires_at: datetime | None
    has_paid: bool

    def state(self, now: datetime) -> State:
        if self.expires_at is None:
            return State.NEVER
        if self.expires_at <= now:
            return State.EXPIRED
        return State.PAID if self.has_paid else State.TRIAL


@dataclass(frozen=True)
class Page:
    rows: list[Row]
    next_after: str | None  # the cursor of the next page, None on the last


def _cursor(row: Row) -> str:
    return f"{row.created_at.isoformat()}_{row.id}"


def parse_cursor(after: str) -> tuple[datetime, int] | None:
    moment, _, key = after.rpartition("_")
    try:
        return datetime.fromisoformat(moment), int(key)
    except ValueError:
        return None


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def _search(session: AsyncSession, q: str) -> ColumnElement[bool]:
    """Digits: the Telegram id. @name: the username. Else the customer whose link token, panel
    email or username it is exactly (each one indexed lookup); failing those, names containing it
    (any case; a trigram index on PostgreSQL)."""
    q = q.strip()
    if q.lstrip("-").isdigit() and len(q) < 20:
        return User.id == int(q)
    if q.startswith("@"):
        return func.lower(User.username) == q[1:].lower()
    exact = (
        select(Subscription.user_id).where(Subscription.token == q),
        select(Subscription.user_id)
        .join(PanelClient, PanelClient.subscription_id == Subscription.id)
        .where(PanelClient.email == q),
        select(User.id).where(func.lower(User.username) == q.lower()),
    )
    for lookup in exact:
        ids = list(await session.scalars(lookup.limit(PAGE)))
        if ids:
            return User.id.in_(ids)
    # Matched through the trigram index first, then ordered: left to itself the planner may walk
    # the newest-first index and test every name, which is slow when few names match.
    named = func.lower(User.full_name).like(f"%{_like(q.lower())}%", escape="\\")
    matches = select(User.id.label("id")).where(named).cte("name_matches").prefix_with("MATERIALIZED")
    return User.id.in_(select(matches.c.id))


def _state(state: State, now: datetime) -> ColumnElement[bool] | None:
    active = Subscription.expires_at > now
    conditions: dict[State, ColumnElement[bool]] = {
        State.PAID: and_(active, Subscription.has_paid.is_(True)),
        State.TRIAL: and_(active, Subscription.has_paid.is_(False)),
        State.EXPIRED: Subscription.expires_at <= now,
        State.BANNED: User.banned.is_(True),
        State.BLOCKED: User.bot_blocked_at.is_not(None),
        State.TRIAL_USED: and_(User.trial_used.is_(True), Subscription.has_paid.is_(True)),
        State.NEVER: Subscription.expires_at.is_(None),
    }
    return conditions.get(state)


async def conditions(session: AsyncSession, filters: Filters, now: datetime) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool]] = []
    if filters.q.strip():
        found.append(await _search(session, filters.q))
    state = _state(filters.state, now)
    if state is not None:
        found.append(state)
    if filters.referrer is not None:
        found.append(User.referrer_id == filters.referrer)
    if filters.renewal_within_days is not None:
        ends = now + timedelta(days=max(filters.renewal_within_days, 0))
        ending = and_(Subscription.expires_at > now, Subscription.expires_at <= ends)
        found.append(and_(Subscription.has_paid.is_(True), ending))
    return found


async def customers(
    sessions: SessionFactory,
    filters: Filters,
    after: str = "",
    limit: int = PAGE,
    now: datetime | None = None,
) -> Page:
    now = now or utcnow()
    query: Any = (
        select(
            User.id,
            User.username,
            User.full_name,
            User.created_at,
            User.banned,
            User.bot_blocked_at,
            Subscription.expires_at,
            Subscription.has_paid,
        )
        .outerjoin(Subscription, Subscription.user_id == User.id)
        .order_by(User.created_at.desc(), User.id.desc())
        .limit(limit + 1)
    )
    if after:
        cursor = parse_cursor(after)
        query = query.where(
            false()
            if cursor is None
            else tuple_(User.created_at, User.id)
            < tuple_(literal(cursor[0], UTCDateTime()), literal(cursor[1], BigInteger()))
        )
    async with sessions() as session:
        query = query.where(*await conditions(session, filters, now))
        fetched = (await session.execute(query)).all()
    rows = [
        Row(r.id, r.username, r.full_name, r.created_at, r.banned, r.bot_blocked_at is not None, r.expires_at,
            bool(r.has_paid))
        for r in fetched[:limit]
    ]  # fmt: skip
    return Page(rows, _cursor(rows[-1]) if len(fetched) > limit else None)
