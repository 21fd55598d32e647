"""Operator broadcasts in the database: the draft minted at the preview, explicit status
transitions, the snapshot of recipients taken at start, and one row per recipient.

A recipient's row is its claim: UNIQUE (broadcast, user), inserted once by the snapshot. A batch
sends only rows still `pending` and records each outcome right after Telegram answers, so a
retried batch (a crashed worker) skips everyone already recorded. What remains is the window
between Telegram accepting a copy and the row being updated: a worker killed exactly there sends
that one copy again on retry (at least once, as for reminders).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import func, insert, literal, select, update

from shop.db import SessionFactory
from shop.models import Broadcast, BroadcastDelivery, BroadcastStatus, DeliveryStatus, User
from shop.transitions import move

S = BroadcastStatus

# target -> the states it may be reached from
ALLOWED_FROM: dict[BroadcastStatus, frozenset[BroadcastStatus]] = {
    S.RUNNING: frozenset({S.DRAFT}),
    S.FINISHED: frozenset({S.RUNNING}),
    S.CANCELED: frozenset({S.DRAFT, S.RUNNING}),
}


@dataclass(frozen=True)
class Draft:
    id: str
    operator_id: int
    source_chat_id: int
    source_message_id: int
    button_text: str | None
    button_url: str | None
    status: BroadcastStatus


@dataclass(frozen=True)
class Snapshot:
    total: int  # every user at the start
    skipped_banned: int
    known_blocked: int  # had blocked the bot before: not tried

    @property
    def recipients(self) -> int:
        return self.total - self.skipped_banned - self.known_blocked


class BroadcastProgress(BaseModel):
    """A broadcast's numbers: the workflow's `progress` query and the operator's report."""

    state: str = "starting"  # starting, sending, finished, canceled
    total: int = 0
    recipients: int = 0
    sent: int = 0
    failed: int = 0
    blocked: int = 0  # blocked the bot during this broadcast
    blocked_before: int = 0
    skipped: int = 0

    @property
    def left(self) -> int:
        return self.recipients - self.sent - self.failed - self.blocked


@dataclass(frozen=True)
class Outcomes:
    sent: int = 0
    failed: int = 0
    blocked: int = 0
    pending: int = 0


def new_broadcast_id() -> str:
    return secrets.token_hex(8)


async def create_draft(
    sessions: SessionFactory,
    operator_id: int,
    source_chat_id: int,
    source_message_id: int,
    button_text: str | None,
    button_url: str | None,
) -> str:
    broadcast_id = new_broadcast_id()
    async with sessions() as session, session.begin():
        session.add(
            Broadcast(
                id=broadcast_id,
                operator_id=operator_id,
                source_chat_id=source_chat_id,
                source_message_id=source_message_id,
                button_text=button_text,
                button_url=button_url,
            )
        )
    return broadcast_id


async def get_draft(sessions: SessionFactory, broadcast_id: str) -> Draft | None:
    async with sessions() as session:
        row = await session.get(Broadcast, broadcast_id)
    if row is None:
        return None
    return Draft(
        row.id,
        row.operator_id,
        row.source_chat_id,
        row.source_message_id,
        row.button_text,
        row.button_url,
        row.status,
    )


async def transition(
    sessions: SessionFactory, broadcast_id: str, target: BroadcastStatus, **fields: Any
) -> BroadcastStatus:
    """Moves the broadcast to `target`; see `shop.transitions.move`."""
    return await move(sessions, Broadcast, broadcast_id, target, ALLOWED_FROM, **fields)


async def is_running(sessions: SessionFactory, broadcast_id: str) -> bool:
    async with sessions() as session:
        status = await session.scalar(select(Broadcast.status).where(Broadcast.id == broadcast_id))
    return status is BroadcastStatus.RUNNING


def _reachable() -> Any:
    return ~User.banned & User.bot_blocked_at.is_(None)


async def reachable_users(sessions: SessionFactory) -> int:
    """How many customers a broadcast started now would try (for the preview)."""
    async with sessions() as session:
        return await session.scalar(select(func.count()).select_from(User).where(_reachable())) or 0


async def take_snapshot(sessions: SessionFactory, broadcast_id: str, now: datetime) -> Snapshot | None:
    """Starts the broadcast: draft -> running and one pending row per reachable user, in one
    transaction, so a retry finds either nothing done or all of it. None: cancelled before it began."""
    async with sessions() as session, session.begin():
        started = await session.execute(
            update(Broadcast)
            .where(Broadcast.id == broadcast_id, Broadcast.status == BroadcastStatus.DRAFT)
            .values(status=BroadcastStatus.RUNNING, started_at=now)
        )
        if started.rowcount == 1:  # type: ignore[attr-defined]
            banned = await session.scalar(select(func.count()).select_from(User).where(User.banned)) or 0
            blocked = (
                await session.scalar(
                    select(func.count())
                    .select_from(User)
                    .where(~User.banned, User.bot_blocked_at.is_not(None))
                )
                or 0
            )
            recipients = select(literal(broadcast_id), User.id, literal(DeliveryStatus.PENDING.value)).where(
                _reachable()
            )
            inserted = await session.execute(
                insert(BroadcastDelivery).from_select(["broadcast_id", "user_id", "status"], recipients)
            )
            # The total is made of the rows just inserted, so it matches them exactly.
            total = banned + blocked + int(inserted.rowcount)  # type: ignore[attr-defined]
            await session.execute(
                update(Broadcast)
                .where(Broadcast.id == broadcast_id)
                .values(total=total, skipped_banned=banned, known_blocked=blocked)
            )
    return await snapshot_of(sessions, broadcast_id)


async def batch(
    sessions: SessionFactory, broadcast_id: str, after_user_id: int, limit: int
) -> list[tuple[int, DeliveryStatus]]:
    """The next `limit` recipients after `after_user_id` (by user id, the unique index's order) with
    their status: the same range on every attempt, since the snapshot never changes."""
    async with sessions() as session:
        rows = await session.execute(
            select(BroadcastDelivery.user_id, BroadcastDelivery.status)
            .where(BroadcastDelivery.broadcast_id == broadcast_id, BroadcastDelivery.user_id > after_user_id)
            .order_by(BroadcastDelivery.user_id)
            .limit(limit)
        )
        return [(user_id, status) for user_id, status in rows]


async def recipient_status(
    sessions: SessionFactory, broadcast_id: str, user_id: int
) -> DeliveryStatus | None:
    async with sessions() as session:
        return await session.scalar(
            select(BroadcastDelivery.status).where(
                BroadcastDelivery.broadcast_id == broadcast_id, BroadcastDelivery.user_id == user_id
            )
        )


async def record(
    sessions: SessionFactory,
    broadcast_id: str,
    user_id: int,
    status: DeliveryStatus,
    now: datetime,
    error: str | None = None,
) -> None:
    async with sessions() as session, session.begin():
        await session.execute(
            update(BroadcastDelivery)
            .where(
                BroadcastDelivery.broadcast_id == broadcast_id,
                BroadcastDelivery.user_id == user_id,
                BroadcastDelivery.status == DeliveryStatus.PENDING,
            )
            .values(status=status, error=error, sent_at=now if status is DeliveryStatus.SENT else None)
        )


async def outcomes(sessions: SessionFactory, broadcast_id: str) -> Outcomes:
    async with sessions() as session:
        rows = await session.execute(
            select(BroadcastDelivery.status, func.count())
            .where(BroadcastDelivery.broadcast_id == broadcast_id)
            .group_by(BroadcastDelivery.status)
        )
        counted = {status.value: count for status, count in rows}
    return Outcomes(**counted)


async def snapshot_of(sessions: SessionFactory, broadcast_id: str) -> Snapshot | None:
    async with sessions() as session:
        row = await session.get(Broadcast, broadcast_id)
    if row is None or row.started_at is None:
        return None
    return Snapshot(row.total, row.skipped_banned, row.known_blocked)


async def report_due(sessions: SessionFactory, broadcast_id: str) -> bool:
    async with sessions() as session:
        reported = await session.scalar(select(Broadcast.reported_at).where(Broadcast.id == broadcast_id))
    return reported is None


async def mark_reported(sessions: SessionFactory, broadcast_id: str, now: datetime) -> None:
    """After the operator's report went out: a retry then does not send it again (a crash in
    between sends it twice, never zero times)."""
    async with sessions() as session, session.begin():
        await session.execute(update(Broadcast).where(Broadcast.id == broadcast_id).values(reported_at=now))
