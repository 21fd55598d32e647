"""The support desk's Telegram side: a customer's messages copied into their ticket's forum topic,
operators' answers copied back, the topic's lifecycle (closed, reopened, deleted and restored, the
group upgraded). Every send goes through the process's Telegram pace; every copy is journalled
under its idempotency key before it is made (shop.support.journal)."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from html import escape
from typing import Any, TypeVar

from aiogram import Bot
from aiogram.enums import ContentType
from aiogram.exceptions import TelegramAPIError, TelegramMigrateToChat
from aiogram.types import Message, MessageId

from bot.support.card import summary_card, topic_name
from bot.texts import t
from shop.context import AppContext
from shop.customers.users import Customer, get_customer
from shop.messaging.pacing import RateLimiter
from shop.messaging.telegram_send import SendOutcome, paced
from shop.models import MessageDirection, SupportDelivery
from shop.support import journal, tickets
from shop.support.journal import CONTENT_KINDS
from shop.support.summary import summarize
from shop.support.tickets import Ticket

log = logging.getLogger(__name__)
T = TypeVar("T")
OPERATOR_STATUSES = ("creator", "administrator")
REPLAYED = 10  # messages replayed into a restored topic
THREAD_GONE = "message thread not found"
TOPIC_WAIT_ROUNDS = 100  # x 0.1 s: how long a message waits for another handler creating the topic
MAX_MIGRATIONS = 3


class DeskUnavailable(RuntimeError):
    """The group refused what the desk needs (not a forum, no rights, ...): the reason says why."""


# What people send (the rest are service messages: members joining, pins, topic edits, ...).
PERSON_CONTENT = {
    *CONTENT_KINDS,
    "audio",
    "animation",
    "video_note",
    "location",
    "venue",
    "contact",
    "poll",
    "dice",
}


def content_kind(message: Message) -> str | None:
    """What the desk can copy, or None (locations, polls, contacts, ... are refused)."""
    kind = ContentType(message.content_type).value
    return kind if kind in CONTENT_KINDS else None


def from_a_person(message: Message) -> bool:
    return ContentType(message.content_type).value in PERSON_CONTENT


class Desk:
    def __init__(self, ctx: AppContext, bot: Bot, limiter: RateLimiter) -> None:
        if ctx.settings.support_chat_id is None:
            raise RuntimeError("the support desk needs SUPPORT_CHAT_ID")
        self.ctx = ctx
        self.bot = bot
        self.limiter = limiter
        self.configured_chat = ctx.settings.support_chat_id
        self.lang = ctx.settings.support_language

    # --- sending ------------------------------------------------------------------------------
    async def send(
        self, chat_id: int, call: Callable[[], Awaitable[T]]
    ) -> tuple[SendOutcome, str | None, T | None]:
        result: list[T] = []

        async def run() -> None:
            result.append(await call())

        outcome, reason = await paced(self.limiter, chat_id, run)
        return outcome, reason, result[0] if result else None

    async def chat(self) -> int:
        return await tickets.current_chat(self.ctx.sessions, self.configured_chat)

    async def _to_group(
        self, call: Callable[[int], Awaitable[T]]
    ) -> tuple[SendOutcome, str | None, T | None]:
        """A call to the support group; an upgraded group is followed to its new id."""
        for _ in range(MAX_MIGRATIONS):
            chat = await self.chat()
            try:
                return await self.send(chat, functools.partial(call, chat))
            except TelegramMigrateToChat as moved:
                log.info("support group %s was upgraded to %s", chat, moved.migrate_to_chat_id)
                await tickets.move_chat(
                    self.ctx.sessions, self.configured_chat, chat, moved.migrate_to_chat_id
                )
        raise DeskUnavailable("the support group keeps moving")

    async def note(self, thread_id: int, key: str, **values: Any) -> None:
        """A line from the desk in a topic."""
        text = t(self.lang, key, **values)
        outcome, reason, _ = await self._to_group(
            lambda chat: self.bot.send_message(chat, text, message_thread_id=thread_id)
        )
        if outcome is not SendOutcome.SENT:
            log.warning("desk note %s not posted in topic %s: %s", key, thread_id, reason)

    async def tell_customer(self, customer: Customer, key: str, **values: Any) -> SendOutcome:
        text = t(customer.language, key, **values)
        outcome, _, _ = await self.send(customer.id, lambda: self.bot.send_message(customer.id, text))
        return outcome

    # --- the customer's side ------------------------------------------------------------------
    async def start_conversation(self, customer: Customer) -> Ticket:
        """The customer asked to talk to support: their ticket is open (its topic reopened)."""
        ticket, opened = await tickets.open_ticket(self.ctx.sessions, customer.id)
        if opened and ticket.thread_id is not None:
            await self._reopen_topic(ticket)
        return ticket

    async def from_customer(self, message: Message, customer: Customer) -> None:
        kind = content_kind(message)
        if kind is None:
            await message.answer(t(customer.language, "support_unsupported"))
            return
        ticket, opened = await tickets.open_ticket(self.ctx.sessions, customer.id)
        entry = await journal.record(
            self.ctx.sessions, ticket.id, MessageDirection.IN, message.chat.id, message.message_id, kind
        )
        if entry.settled:
            return  # the same update again: copied already
        try:
            thread = await self._topic(ticket, customer)
            if opened and ticket.thread_id is not None:
                await self._reopen_topic(ticket)
            await self._copy_in(entry, ticket, customer, thread)
        except DeskUnavailable as error:
            log.error("support desk unavailable: %s", error)
            await message.answer(t(customer.language, "support_unavailable"))
            return
        if opened:
            await message.answer(t(customer.language, "support_received"))

    async def _reopen_topic(self, ticket: Ticket) -> None:
        assert ticket.thread_id is not None
        thread = ticket.thread_id
        outcome, reason, _ = await self._to_group(lambda chat: self.bot.reopen_forum_topic(chat, thread))
        if outcome is SendOutcome.SENT or "TOPIC_NOT_MODIFIED" in (reason or ""):
            await self.note(thread, "desk_reopened")

    async def _copy_in(self, entry: journal.Entry, ticket: Ticket, customer: Customer, thread: int) -> None:
        for _ in range(2):
            copy_into = functools.partial(
                self._copy_into,
                source_chat=entry.source_chat_id,
                source=entry.source_message_id,
                thread=thread,
            )
            outcome, reason, copy = await self._to_group(copy_into)
            if outcome is SendOutcome.FAILED and THREAD_GONE in (reason or ""):
                await tickets.forget_topic(self.ctx.sessions, ticket.id, thread)
                thread = await self._topic(ticket, customer, restored=True)
                continue
            break
        status = SupportDelivery.DELIVERED if outcome is SendOutcome.SENT else SupportDelivery.FAILED
        copy_id = copy.message_id if copy is not None else None
        await journal.settle(self.ctx.sessions, entry.id, status, reason, copy_id)

    async def _copy_into(self, chat: int, *, source_chat: int, source: int, thread: int) -> MessageId:
        return await self.bot.copy_message(chat, source_chat, source, message_thread_id=thread)

    async def _topic(self, ticket: Ticket, customer: Customer, restored: bool = False) -> int:
        """The ticket's topic: created by the one handler that claims it, awaited by the others."""
        for _ in range(TOPIC_WAIT_ROUNDS):
            current = await tickets.ticket_of(self.ctx.sessions, ticket.user_id)
            assert current is not None
            if current.thread_id is not None:
                return current.thread_id
            if await tickets.claim_topic(self.ctx.sessions, ticket.id):
                try:
                    return await self._create_topic(ticket, customer, restored)
                except BaseException:
                    await tickets.set_topic(self.ctx.sessions, ticket.id, None, None)  # let another try
                    raise
            await asyncio.sleep(0.1)
        raise DeskUnavailable(f"the topic of ticket {ticket.id} was not created in time")

    async def _create_topic(self, ticket: Ticket, customer: Customer, restored: bool) -> int:
        name = topic_name(self.lang, customer)
        outcome, reason, topic = await self._to_group(lambda chat: self.bot.create_forum_topic(chat, name))
        if topic is None:
            raise DeskUnavailable(f"createForumTopic: {outcome} {reason}")
        thread = topic.message_thread_id
        # The card (and a restored topic's history) first; only then is the topic published to the
        # messages waiting for it, so they land after.
        card = summary_card(self.lang, await summarize(self.ctx.sessions, customer), self.ctx.settings)
        await self._to_group(lambda chat: self.bot.send_message(chat, card, message_thread_id=thread))
        if restored:
            await self.note(thread, "desk_restored")
            await self._replay(ticket, customer, thread)
        await tickets.set_topic(self.ctx.sessions, ticket.id, await self.chat(), thread)
        return thread

    async def _replay(self, ticket: Ticket, customer: Customer, thread: int) -> None:
        """The last delivered messages, copied from the customer's chat (the topic's copies are gone
        with the deleted topic): theirs as they wrote them, operators' as the customer got them."""
        for entry in await journal.conversation(self.ctx.sessions, ticket.id, last=REPLAYED + 1):
            if entry.status is not SupportDelivery.DELIVERED:
                continue
            source = (
                entry.source_message_id if entry.direction is MessageDirection.IN else entry.copy_message_id
            )
            if source is None:
                continue
            await self._to_group(
                functools.partial(self._copy_into, source_chat=customer.id, source=source, thread=thread)
            )

    # --- the operators' side ------------------------------------------------------------------
    async def is_operator(self, message: Message) -> bool:
        """Group admins, and anyone posting as the group; other members are ignored."""
        if message.sender_chat is not None:
            return message.sender_chat.id == message.chat.id
        if message.from_user is None:
            return False
        try:
            member = await self.bot.get_chat_member(message.chat.id, message.from_user.id)
        except TelegramAPIError as error:
            log.warning("could not check %s in the support group: %s", message.from_user.id, error)
            return False
        return member.status in OPERATOR_STATUSES

    async def customer_of(self, message: Message) -> tuple[Ticket, Customer] | None:
        """The ticket and customer of the topic this message is in (None outside tickets' topics)."""
        if not message.is_topic_message or message.message_thread_id is None:
            return None
        ticket = await tickets.ticket_in(self.ctx.sessions, message.chat.id, message.message_thread_id)
        if ticket is None:
            return None
        customer = await get_customer(self.ctx.sessions, ticket.user_id)
        return (ticket, customer) if customer is not None else None

    async def to_customer(self, message: Message, ticket: Ticket, customer: Customer) -> None:
        """An operator's message in the topic, copied to the customer once, its outcome noted."""
        thread = message.message_thread_id
        assert thread is not None
        kind = content_kind(message)
        if kind is None:
            await self.note(thread, "desk_unsupported")
            return
        copy = functools.partial(self.bot.copy_message, customer.id, message.chat.id, message.message_id)
        await self._answer(message, thread, ticket, customer, kind, copy)

    async def send_text(self, message: Message, ticket: Ticket, customer: Customer, text: str) -> None:
        """A text from the desk to the customer on an operator's command (a saved answer), journalled
        under the command's message. The text goes as typed: escaped, so "<" is no HTML tag."""
        thread = message.message_thread_id
        assert thread is not None
        send = functools.partial(self.bot.send_message, customer.id, escape(text))
        await self._answer(message, thread, ticket, customer, "text", send)

    async def _answer(
        self,
        message: Message,
        thread: int,
        ticket: Ticket,
        customer: Customer,
        kind: str,
        call: Callable[[], Awaitable[MessageId | Message]],
    ) -> None:
        """An operator's answer: journalled under the operator's message, sent once, outcome noted."""
        author = message.from_user.id if message.from_user and message.sender_chat is None else None
        entry = await journal.record(
            self.ctx.sessions,
            ticket.id,
            MessageDirection.OUT,
            message.chat.id,
            message.message_id,
            kind,
            author,
        )
        if entry.settled:
            return
        outcome, reason, sent = await self.send(customer.id, call)
        await self._settle_out(entry, thread, outcome, reason, sent.message_id if sent else None)

    async def _settle_out(
        self, entry: journal.Entry, thread: int, outcome: SendOutcome, reason: str | None, copy_id: int | None
    ) -> None:
        status = {
            SendOutcome.SENT: SupportDelivery.DELIVERED,
            SendOutcome.BLOCKED: SupportDelivery.BLOCKED,
            SendOutcome.FAILED: SupportDelivery.FAILED,
        }[outcome]
        await journal.settle(self.ctx.sessions, entry.id, status, reason, copy_id)
        if status is SupportDelivery.BLOCKED:
            await self.note(thread, "desk_blocked")
        elif status is SupportDelivery.FAILED:
            await self.note(thread, "desk_failed", reason=escape(reason or "?"))

    # --- after a restart ----------------------------------------------------------------------
    async def resume(self) -> int:
        """Copies again what was recorded but never confirmed (the process died, or the network
        failed, between the record and Telegram's answer); returns how many were taken up."""
        entries = await journal.pending(self.ctx.sessions)
        for entry in entries:
            ticket = await tickets.ticket_by_id(self.ctx.sessions, entry.ticket_id)
            customer = await get_customer(self.ctx.sessions, ticket.user_id)
            if customer is None:
                continue
            if entry.direction is MessageDirection.IN:
                thread = await self._topic(ticket, customer)
                await self._copy_in(entry, ticket, customer, thread)
            elif ticket.thread_id is not None:
                copy_out = functools.partial(
                    self.bot.copy_message, customer.id, entry.source_chat_id, entry.source_message_id
                )
                outcome, reason, copy = await self.send(customer.id, copy_out)
                await self._settle_out(
                    entry, ticket.thread_id, outcome, reason, copy.message_id if copy else None
                )
        return len(entries)

    # --- the topic's lifecycle ----------------------------------------------------------------
    async def topic_closed(self, ticket: Ticket, customer: Customer) -> None:
        if await tickets.close_ticket(self.ctx.sessions, ticket.id):
            await self.tell_customer(customer, "support_closed")

    async def topic_reopened(self, ticket: Ticket) -> None:
        await tickets.reopen_ticket(self.ctx.sessions, ticket.id)

    async def group_upgraded(self, old_id: int, new_id: int) -> None:
        await tickets.move_chat(self.ctx.sessions, self.configured_chat, old_id, new_id)
