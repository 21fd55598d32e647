"""The support desk's records on SQLite and PostgreSQL: one ticket per customer whatever races, one
topic claim at a time, and the journal's idempotency key."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from shop.models import MessageDirection, SupportDelivery, TicketStatus, utcnow
from shop.support import journal, quick, tickets
from shop.support.quick import QuickReplyError
from tests.conftest import Database
from tests.factories import subscriber


async def test_one_ticket_and_one_topic_claim_whatever_races(db: Database) -> None:
    await subscriber(db.sessions, 7, "Ann")
    opened = await asyncio.gather(*(tickets.open_ticket(db.sessions, 7) for _ in range(10)))
    assert len({ticket.id for ticket, _ in opened}) == 1
    assert sum(first for _, first in opened) == 1  # exactly one call opened it
    ticket = opened[0][0]

    claims = await asyncio.gather(*(tickets.claim_topic(db.sessions, ticket.id) for _ in range(10)))
    assert claims.count(True) == 1
    # A claim left by a process that died is taken over once the lease is over.
    assert await tickets.claim_topic(db.sessions, ticket.id, utcnow() + timedelta(seconds=31))
    await tickets.set_topic(db.sessions, ticket.id, -100, 42)
    assert not await tickets.claim_topic(db.sessions, ticket.id, utcnow() + timedelta(hours=1))
    assert await tickets.ticket_in(db.sessions, -100, 42) == await tickets.ticket_of(db.sessions, 7)

    assert await tickets.close_ticket(db.sessions, ticket.id) and not await tickets.close_ticket(
        db.sessions, ticket.id
    )
    again, reopened = await tickets.open_ticket(db.sessions, 7)
    assert reopened and again.status is TicketStatus.OPEN and again.thread_id == 42

    await tickets.forget_topic(db.sessions, ticket.id, 41)  # an older topic: the current one stays
    assert (await tickets.ticket_of(db.sessions, 7)).thread_id == 42  # type: ignore[union-attr]
    await tickets.move_chat(db.sessions, -5, -100, -200)
    assert await tickets.current_chat(db.sessions, -5) == -200
    assert await tickets.ticket_in(db.sessions, -200, 42) is not None


async def test_the_journal_records_each_message_once(db: Database) -> None:
    await subscriber(db.sessions, 7, "Ann")
    ticket, _ = await tickets.open_ticket(db.sessions, 7)
    entries = await asyncio.gather(
        *(journal.record(db.sessions, ticket.id, MessageDirection.IN, 7, 1, "text") for _ in range(5))
    )
    assert len({entry.id for entry in entries}) == 1 and not entries[0].settled
    waiting = (await tickets.ticket_of(db.sessions, 7)).waiting_since  # type: ignore[union-attr]
    assert waiting is not None
    await journal.settle(db.sessions, entries[0].id, SupportDelivery.DELIVERED, copy_message_id=9)
    repeat = await journal.record(db.sessions, ticket.id, MessageDirection.IN, 7, 1, "text")
    assert repeat.settled and repeat.copy_message_id == 9

    answer = await journal.record(db.sessions, ticket.id, MessageDirection.OUT, -100, 5, "photo", author_id=3)
    await journal.settle(
        db.sessions, answer.id, SupportDelivery.BLOCKED, "Forbidden: bot was blocked by the user"
    )
    assert (await tickets.ticket_of(db.sessions, 7)).waiting_since is None  # type: ignore[union-attr]
    conversation = await journal.conversation(db.sessions, ticket.id)
    assert [(e.direction, e.status) for e in conversation] == [
        (MessageDirection.IN, SupportDelivery.DELIVERED),
        (MessageDirection.OUT, SupportDelivery.BLOCKED),
    ]
    assert [e.id for e in await journal.conversation(db.sessions, ticket.id, last=1)] == [answer.id]


async def test_saved_answers_refuse_bad_names_and_texts(db: Database) -> None:
    for name, text in (("Bad Name", "x"), ("", "x"), ("x" * 33, "x"), ("ok", "  "), ("ok", "x" * 4001)):
        with pytest.raises(QuickReplyError):
            await quick.save(db.sessions, name, text, 1)
    assert await quick.names(db.sessions) == []
    await quick.save(db.sessions, "Hello", "Hi!", 1)
    await quick.save(db.sessions, "hello", "Hi again!", 2)
    assert (
        await quick.names(db.sessions) == ["hello"] and await quick.get(db.sessions, "HELLO") == "Hi again!"
    )
    assert await quick.remove(db.sessions, "hello") and not await quick.remove(db.sessions, "hello")


async def test_the_queue_of_open_tickets_puts_the_longest_waiting_first(db: Database) -> None:
    for user_id, name in ((1, "Ann"), (2, "Bob"), (3, "Cat")):
        await subscriber(db.sessions, user_id, name)
        ticket, _ = await tickets.open_ticket(db.sessions, user_id)
        await journal.record(db.sessions, ticket.id, MessageDirection.IN, user_id, 1, "text")
    bob = await tickets.ticket_of(db.sessions, 2)
    cat = await tickets.ticket_of(db.sessions, 3)
    assert bob is not None and cat is not None
    await journal.record(db.sessions, bob.id, MessageDirection.OUT, -100, 7, "text", author_id=9)
    await tickets.close_ticket(db.sessions, cat.id)
    queue = await tickets.open_tickets(db.sessions, utcnow() + timedelta(minutes=5))
    assert [(item.ticket.user_id, item.full_name) for item in queue] == [(1, "Ann"), (2, "Bob")]
    assert queue[0].waiting is not None and queue[0].waiting >= timedelta(minutes=5)
    assert queue[1].waiting is None  # answered
