"""Every message of a ticket, recorded before it is copied under its idempotency key (the chat and
id of the original), then marked with what Telegram answered: copying is at-least-once, and a
message already delivered is never copied again, whatever is retried or restarted."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from shop.db import SessionFactory
from shop.models import MessageDirection, SupportDelivery, SupportMessage, SupportTicket, utcnow

# What the desk copies and records (a message's `kind`); the rest is refused with an answer.
CONTENT_KINDS = ("text", "photo", "video", "document", "voice", "sticker")


@dataclass(frozen=True)
class Entry:
    id: int
    ticket_id: int
    direction: MessageDirection
    source_chat_id: int
    source_message_id: int
    kind: str
    author_id: int | None  # the operator who answered (None: the customer, or the group itself)
    status: SupportDelivery
    error: str | None
    copy_message_id: int | None
    created_at: datetime

    @property
    def settled(self) -> bool:
        """Telegram answered for good: copying it again would double it (or fail the same way)."""
        return self.status is not SupportDelivery.PENDING


def _entry(row: SupportMessage) -> Entry:
    return Entry(
        row.id, row.ticket_id, row.direction, row.source_chat_id, row.source_message_id, row.kind,
        row.author_id, row.status, row.error, row.copy_message_id, row.created_at,
    )  # fmt: skip


async def record(
    sessions: SessionFactory,
    ticket_id: int,
    direction: MessageDirection,
    chat_id: int,
    message_id: int,
    kind: str,
    author_id: int | None = None,
    now: datetime | None = None,
) -> Entry:
    """The message's row, written now or found from an earlier delivery of the same update."""
    try:
        async with sessions() as session, session.begin():
            row = SupportMessage(
                ticket_id=ticket_id, direction=direction, source_chat_id=chat_id,
                source_message_id=message_id, kind=kind, author_id=author_id,
                created_at=now or utcnow(),
            )  # fmt: skip
            session.add(row)
            await session.flush()
            # Who waits for an answer since when: the customer's first unanswered message; an
            # operator's message answers them.
            waiting = update(SupportTicket).where(SupportTicket.id == ticket_id)
            if direction is MessageDirection.IN:
                waiting = waiting.where(SupportTicket.waiting_since.is_(None)).values(
                    waiting_since=row.created_at
                )
            else:
                waiting = waiting.values(waiting_since=None)
            await session.execute(waiting)
            return _entry(row)
    except IntegrityError:
        async with sessions() as session:
            existing = await session.scalar(
                select(SupportMessage).where(
                    SupportMessage.source_chat_id == chat_id, SupportMessage.source_message_id == message_id
                )
            )
            assert existing is not None
            return _entry(existing)


async def settle(
    sessions: SessionFactory,
    entry_id: int,
    status: SupportDelivery,
    error: str | None = None,
    copy_message_id: int | None = None,
) -> None:
    async with sessions() as session, session.begin():
        await session.execute(
            update(SupportMessage)
            .where(SupportMessage.id == entry_id)
            .values(
                status=status,
                error=error,
                copy_message_id=copy_message_id,
                delivered_at=utcnow() if status is SupportDelivery.DELIVERED else None,
            )
        )


async def conversation(sessions: SessionFactory, ticket_id: int, last: int | None = None) -> list[Entry]:
    """The ticket's messages, oldest first (only the `last` ones when given)."""
    async with sessions() as session:
        query = (
            select(SupportMessage)
            .where(SupportMessage.ticket_id == ticket_id)
            .order_by(SupportMessage.id.desc())
        )
        if last is not None:
            query = query.limit(last)
        rows = list(await session.scalars(query))
    return [_entry(row) for row in reversed(rows)]


async def pending(sessions: SessionFactory, limit: int = 100) -> list[Entry]:
    """Messages recorded whose copy was never confirmed (a crash or a network error in between),
    oldest first: copied again when the desk starts (at-least-once)."""
    async with sessions() as session:
        rows = await session.scalars(
            select(SupportMessage)
            .where(SupportMessage.status == SupportDelivery.PENDING)
            .order_by(SupportMessage.id)
            .limit(limit)
        )
        return [_entry(row) for row in rows]
