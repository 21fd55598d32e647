"""The support desk in the console: the queue of open tickets, the longest-waiting first with how
long, and one ticket's conversation with each message's delivery; for support and owners alike."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from console.auth import LANG_COOKIE
from console.routes.support import waited
from shop.context import AppContext
from shop.models import MessageDirection, SupportDelivery, utcnow
from shop.support import journal, tickets
from tests.conftest import Database
from tests.console_client import OWNER, SUPPORT, console_context, sign_in
from tests.factories import subscriber
from tests.sub_client import api_client

GROUP = -1001234567890  # a supergroup: its topics have t.me/c/1234567890/<thread> links


async def customer_writes(ctx: AppContext, user_id: int, name: str, ago: timedelta, message_id: int) -> int:
    """A customer with an open ticket whose (unanswered) message came `ago`; the ticket's id."""
    await subscriber(ctx.sessions, user_id, name)
    ticket, _ = await tickets.open_ticket(ctx.sessions, user_id)
    entry = await journal.record(
        ctx.sessions, ticket.id, MessageDirection.IN, user_id, message_id, "text", now=utcnow() - ago
    )
    await journal.settle(ctx.sessions, entry.id, SupportDelivery.DELIVERED, copy_message_id=message_id)
    return ticket.id


def ticket_order(html: str) -> list[int]:
    return [int(found) for found in re.findall(r'data-ticket="(\d+)"', html)]


def row_of(html: str, attribute: str, value: int) -> str:
    found = re.search(rf'<tr {attribute}="{value}">(.*?)</tr>', html, re.S)
    assert found, f"no row {attribute}={value}"
    return found.group(1)


async def test_the_queue_shows_open_tickets_longest_waiting_first(db: Database) -> None:
    ctx = console_context(db)
    async with api_client(ctx) as client:
        await sign_in(client, ctx, SUPPORT)
        client.cookies.set(LANG_COOKIE, "en")
        empty = await client.get("/console/support")
        assert empty.status_code == 200 and "No open tickets." in empty.text
        assert 'href="/console/support"' in empty.text  # in support's navigation

        bob = await customer_writes(ctx, 8, "Bob", timedelta(minutes=10, seconds=20), 1)
        ann = await customer_writes(ctx, 7, "Ann", timedelta(hours=3, minutes=5, seconds=20), 2)
        eve = await customer_writes(ctx, 11, "Eve", timedelta(days=2, hours=4, minutes=1), 3)
        # Cid was answered; Dan's ticket is closed: neither waits.
        cid = await customer_writes(ctx, 9, "Cid", timedelta(hours=9), 4)
        await journal.record(ctx.sessions, cid, MessageDirection.OUT, GROUP, 5, "text", author_id=SUPPORT)
        dan = await customer_writes(ctx, 10, "Dan", timedelta(days=9), 6)
        assert await tickets.close_ticket(ctx.sessions, dan)

        page = await client.get("/console/support")
        assert page.status_code == 200
        assert ticket_order(page.text) == [eve, ann, bob, cid]
        assert "No open tickets." not in page.text
        for ticket_id, name, wait in (
            (eve, "Eve", "2 d 4 h"),
            (ann, "Ann", "3 h 5 min"),
            (bob, "Bob", "10 min"),
            (cid, "Cid", "answered"),
        ):
            row = row_of(page.text, "data-ticket", ticket_id)
            assert name in row and f"@{name.lower()}" in row and f'href="/console/support/{ticket_id}"' in row
            assert f">{wait}<" in row, row
        assert "· 8</span>" in row_of(page.text, "data-ticket", bob)  # the customer's Telegram id

        client.cookies.set(LANG_COOKIE, "ru")
        russian = await client.get("/console/support")
        assert ">3 ч 5 мин<" in row_of(russian.text, "data-ticket", ann)


async def test_a_ticket_shows_its_conversation_with_deliveries(sqlite_db: Database) -> None:
    ctx = console_context(sqlite_db)
    await subscriber(ctx.sessions, 7, "Ann")
    ticket, _ = await tickets.open_ticket(ctx.sessions, 7)
    await tickets.set_topic(ctx.sessions, ticket.id, GROUP, 42)
    start = utcnow() - timedelta(hours=1)
    asked = await journal.record(ctx.sessions, ticket.id, MessageDirection.IN, 7, 100, "photo", now=start)
    await journal.settle(ctx.sessions, asked.id, SupportDelivery.DELIVERED, copy_message_id=900)
    answer = await journal.record(
        ctx.sessions, ticket.id, MessageDirection.OUT, GROUP, 901, "text", author_id=SUPPORT,
        now=start + timedelta(minutes=2),
    )  # fmt: skip
    await journal.settle(
        ctx.sessions, answer.id, SupportDelivery.BLOCKED, "Forbidden: bot was blocked by the user"
    )
    as_group = await journal.record(
        ctx.sessions, ticket.id, MessageDirection.OUT, GROUP, 902, "sticker", now=start + timedelta(minutes=3)
    )
    await journal.settle(ctx.sessions, as_group.id, SupportDelivery.FAILED, "Bad Request: STICKER_INVALID")
    again = await journal.record(
        ctx.sessions, ticket.id, MessageDirection.IN, 7, 101, "voice", now=start + timedelta(minutes=5)
    )  # not confirmed yet: the desk copies it again when it starts

    async with api_client(ctx) as client:
        page = await client.get(f"/console/support/{ticket.id}")
        assert (page.status_code, page.headers["location"]) == (303, "/console/signin")  # no session

        await sign_in(client, ctx, SUPPORT)
        client.cookies.set(LANG_COOKIE, "en")
        page = await client.get(f"/console/support/{ticket.id}")
    assert page.status_code == 200
    html = page.text
    assert f"Ticket #{ticket.id}" in html and "Ann" in html and "@ann" in html
    assert 'href="https://t.me/c/1234567890/42"' in html
    assert ">55 min<" in html  # waiting since the unanswered voice message
    assert [int(found) for found in re.findall(r'data-entry="(\d+)"', html)] == [
        asked.id, answer.id, as_group.id, again.id,
    ]  # fmt: skip
    expected = {
        asked.id: ("customer → topic", "photo", "Ann", "delivered", start.strftime("%d.%m.%Y %H:%M:%S")),
        answer.id: (
            "topic → customer", "text", f"operator {SUPPORT}", "customer blocked the bot", "Forbidden",
        ),
        as_group.id: ("topic → customer", "sticker", "the group", "failed", "STICKER_INVALID"),
        again.id: ("customer → topic", "voice", "Ann", "not confirmed yet", "voice"),
    }  # fmt: skip
    for entry_id, parts in expected.items():
        row = row_of(html, "data-entry", entry_id)
        for part in parts:
            assert part in row, (part, row)
    assert "badge bad" in row_of(html, "data-entry", answer.id)
    assert "badge ok" in row_of(html, "data-entry", asked.id)


async def test_owners_see_closed_tickets_and_topicless_ones_without_a_link(sqlite_db: Database) -> None:
    ctx = console_context(sqlite_db)
    await subscriber(ctx.sessions, 7, "Ann")
    ticket, _ = await tickets.open_ticket(ctx.sessions, 7)
    await tickets.set_topic(ctx.sessions, ticket.id, -5, 3)  # a basic group's id: no t.me/c/ link
    assert await tickets.close_ticket(ctx.sessions, ticket.id)
    async with api_client(ctx) as client:
        await sign_in(client, ctx, OWNER)
        client.cookies.set(LANG_COOKIE, "en")
        page = await client.get(f"/console/support/{ticket.id}")
        assert page.status_code == 200
        assert "closed" in page.text and "No messages recorded yet." in page.text
        assert "t.me/c/" not in page.text and "No topic to open" in page.text
        assert ticket_order((await client.get("/console/support")).text) == []


async def test_an_unknown_ticket_is_not_found(sqlite_db: Database) -> None:
    ctx = console_context(sqlite_db)
    async with api_client(ctx) as client:
        await sign_in(client, ctx, SUPPORT)
        assert (await client.get("/console/support/999")).status_code == 404
        assert (await client.get("/console/support/nope")).status_code == 422


@pytest.mark.parametrize(
    ("delta", "expected"),
    [
        (None, None),
        (timedelta(seconds=59), ("waited_moment", {})),
        (timedelta(minutes=59, seconds=59), ("waited_minutes", {"minutes": 59})),
        (timedelta(hours=1), ("waited_hours", {"hours": 1, "minutes": 0})),
        (timedelta(hours=23, minutes=59), ("waited_hours", {"hours": 23, "minutes": 59})),
        (timedelta(days=1, minutes=30), ("waited_days", {"days": 1, "hours": 0})),
        (timedelta(seconds=-5), ("waited_moment", {})),  # clocks a little apart: never negative
    ],
)
def test_waiting_time_in_words(delta: timedelta | None, expected: object) -> None:
    assert waited(delta) == expected


def test_topic_links_only_for_supergroups() -> None:
    def ticket(chat: int | None, thread: int | None) -> tickets.Ticket:
        return tickets.Ticket(1, 7, tickets.TicketStatus.OPEN, chat, thread, None)

    assert ticket(GROUP, 42).topic_url == "https://t.me/c/1234567890/42"
    assert ticket(GROUP, None).topic_url is None
    assert ticket(-5, 3).topic_url is None
    assert ticket(None, None).topic_url is None
