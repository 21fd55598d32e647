"""Tickets: one per customer, opened by their message, closed with the topic, reopened by the next
message; the topic is created by whoever claims it first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, or_, select, update
from sqlalchemy.exc import IntegrityError

from shop.db import SessionFactory
from shop.models import SupportChat, SupportTicket, TicketStatus, User, utcnow

# A claim older than this is of a process that died while creating the topic: another may take it.
CLAIM_LEASE = timedelta(seconds=30)


@dataclass(frozen=True)
class Ticket:
    id: int
    user_id: int
    status: TicketStatus
    chat_id: int | None
    thread_id: int | None
    waiting_since: datetime | None

    @property
    def is_open(self) -> bool:
        return self.status is TicketStatus.OPEN

    @property
    def topic_url(self) -> str | None:
        """The topic in Telegram for a member of the group: only supergroups (ids -100…) have
        t.me/c/ links, and forum topics live only in supergroups."""
        chat = str(self.chat_id)
        if self.thread_id is None or not chat.startswith("-100") or len(chat) <= 4:
            return None
        return f"https://t.me/c/{chat[4:]}/{self.thread_id}"


def _ticket(row: SupportTicket) -> Ticket:
    return Ticket(row.id, row.user_id, row.status, row.chat_id, row.thread_id, row.waiting_since)


async def ticket_of(sessions: SessionFactory, user_id: int) -> Ticket | None:
    async with sessions() as session:
        row = await session.scalar(select(SupportTicket).where(SupportTicket.user_id == user_id))
        return _ticket(row) if row else None


async def ticket_by_id(sessions: SessionFactory, ticket_id: int) -> Ticket:
    async with sessions() as session:
        row = await session.get(SupportTicket, ticket_id)
        if row is None:
            raise LookupError(ticket_id)
        return _ticket(row)


async def ticket_in(sessions: SessionFactory, chat_id: int, thread_id: int) -> Ticket | None:
    """The ticket whose topic this is."""
    async with sessions() as session:
        row = await session.scalar(
            select(SupportTicket).where(
                SupportTicket.chat_id == chat_id, SupportTicket.thread_id == thread_id
            )
        )
        return _ticket(row) if row else None


async def open_ticket(sessions: SessionFactory, user_id: int) -> tuple[Ticket, bool]:
    """The customer's ticket, open; True when this call opened it (a new ticket, or a closed one
    reopened). Concurrent calls agree: the row is UNIQUE per customer, the reopening conditional."""
    try:
        async with sessions() as session, session.begin():
            session.add(SupportTicket(user_id=user_id, status=TicketStatus.OPEN))
        created = True
    except IntegrityError:
        created = False
    reopened = False
    if not created:
        async with sessions() as session, session.begin():
            result = await session.execute(
                update(SupportTicket)
                .where(SupportTicket.user_id == user_id, SupportTicket.status == TicketStatus.CLOSED)
                .values(status=TicketStatus.OPEN, opened_at=utcnow(), closed_at=None)
            )
        reopened = bool(result.rowcount)  # type: ignore[attr-defined]
    ticket = await ticket_of(sessions, user_id)
    assert ticket is not None
    return ticket, created or reopened


async def claim_topic(sessions: SessionFactory, ticket_id: int, now: datetime | None = None) -> bool:
    """True for the one caller that may create the ticket's topic now (no topic yet, and nobody
    else creating it within the lease)."""
    now = now or utcnow()
    async with sessions() as session, session.begin():
        result = await session.execute(
            update(SupportTicket)
            .where(
                SupportTicket.id == ticket_id,
                SupportTicket.thread_id.is_(None),
                or_(
                    SupportTicket.topic_claimed_at.is_(None),
                    SupportTicket.topic_claimed_at < now - CLAIM_LEASE,
                ),
            )
            .values(topic_claimed_at=now)
        )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def set_topic(
    sessions: SessionFactory, ticket_id: int, chat_id: int | None, thread_id: int | None
) -> None:
    """The topic was created (or, with None, is gone and must be created again)."""
    async with sessions() as session, session.begin():
        await session.execute(
            update(SupportTicket)
            .where(SupportTicket.id == ticket_id)
            .values(chat_id=chat_id, thread_id=thread_id, topic_claimed_at=None)
        )


async def forget_topic(sessions: SessionFactory, ticket_id: int, thread_id: int) -> None:
    """The topic was deleted; only the first to notice clears it (a newer topic stays)."""
    async with sessions() as session, session.begin():
        await session.execute(
            update(SupportTicket)
            .where(SupportTicket.id == ticket_id, SupportTicket.thread_id == thread_id)
            .values(thread_id=None, topic_claimed_at=None)
        )


async def close_ticket(sessions: SessionFactory, ticket_id: int) -> bool:
    """True when this call closed it (False: already closed)."""
    async with sessions() as session, session.begin():
        result = await session.execute(
            update(SupportTicket)
            .where(SupportTicket.id == ticket_id, SupportTicket.status == TicketStatus.OPEN)
            .values(status=TicketStatus.CLOSED, closed_at=utcnow(), waiting_since=None)
        )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def reopen_ticket(sessions: SessionFactory, ticket_id: int) -> bool:
    async with sessions() as session, session.begin():
        result = await session.execute(
            update(SupportTicket)
            .where(SupportTicket.id == ticket_id, SupportTicket.status == TicketStatus.CLOSED)
            .values(status=TicketStatus.OPEN, opened_at=utcnow(), closed_at=None)
        )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def current_chat(sessions: SessionFactory, configured_id: int) -> int:
    """The support group's id now (it changes when a group is upgraded to a supergroup)."""
    async with sessions() as session:
        moved = await session.get(SupportChat, configured_id)
        return moved.chat_id if moved else configured_id


async def move_chat(sessions: SessionFactory, configured_id: int, old_id: int, new_id: int) -> None:
    """Follows the group to its new id: the desk's setting and every ticket's topic."""
    async with sessions() as session, session.begin():
        moved = await session.get(SupportChat, configured_id)
        if moved is None:
            session.add(SupportChat(configured_id=configured_id, chat_id=new_id))
        else:
            moved.chat_id = new_id
        await session.execute(
            update(SupportTicket).where(SupportTicket.chat_id == old_id).values(chat_id=new_id)
        )


@dataclass(frozen=True)
class WaitingTicket:
    ticket: Ticket
    full_name: str
    username: str | None
    waiting: timedelta | None  # since the customer's oldest unanswered message (None: answered)


def _with_customer() -> Select[SupportTicket, str, str | None]:
    return select(SupportTicket, User.full_name, User.username).join(User, User.id == SupportTicket.user_id)


def _waiting(row: SupportTicket, name: str, username: str | None, now: datetime) -> WaitingTicket:
    waiting = now - row.waiting_since if row.waiting_since else None
    return WaitingTicket(_ticket(row), name, username, waiting)


async def open_tickets(sessions: SessionFactory, now: datetime | None = None) -> list[WaitingTicket]:
    """Open tickets for the operators' queue (the console): the longest-waiting first, then the
    answered ones, newest opening first."""
    now = now or utcnow()
    async with sessions() as session:
        rows = (
            await session.execute(
                _with_customer()
                .where(SupportTicket.status == TicketStatus.OPEN)
                .order_by(
                    SupportTicket.waiting_since.is_(None),
                    SupportTicket.waiting_since,
                    SupportTicket.opened_at.desc(),
                )
            )
        ).all()
    return [_waiting(row, name, username, now) for row, name, username in rows]


async def waiting_ticket(
    sessions: SessionFactory, ticket_id: int, now: datetime | None = None
) -> WaitingTicket:
    """One ticket, open or closed, with its customer (LookupError: no such ticket)."""
    async with sessions() as session:
        found = (await session.execute(_with_customer().where(SupportTicket.id == ticket_id))).first()
    if found is None:
        raise LookupError(ticket_id)
    row, name, username = found
    return _waiting(row, name, username, now or utcnow())
