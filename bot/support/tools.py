"""Operator commands inside a ticket's topic, acting on that customer through the same domain
services as the bot's /admin (shop.customers.admin): /grant 7d, /ban, /unban, /link, saved answers
(/quick, /q). A bad argument gets a clear answer in the topic and changes nothing."""

from __future__ import annotations

import logging
import re
from html import escape

from aiogram.types import Message

from bot.delivery import access_card
from bot.support.desk import Desk
from bot.texts import date
from shop.customers import admin as operations
from shop.customers.admin import MAX_ADJUSTMENT_DAYS, AccessSync
from shop.customers.users import Customer, access_of
from shop.messaging.telegram_send import SendOutcome
from shop.support import quick
from shop.support.quick import QuickReplyError
from shop.support.tickets import Ticket

log = logging.getLogger(__name__)
DAYS = re.compile(r"^(\d{1,5})d$")


class Tools:
    def __init__(self, desk: Desk, access_sync: AccessSync) -> None:
        self.desk = desk
        self.access_sync = access_sync

    async def run(self, message: Message, ticket: Ticket, customer: Customer) -> None:
        command, _, rest = (message.text or "").partition(" ")
        name = command[1:].split("@", 1)[0].lower()
        handler = {
            "grant": self.grant,
            "ban": self.ban,
            "unban": self.unban,
            "link": self.link,
            "quick": self.quick,
            "q": self.send_quick,
        }.get(name)
        if handler is None:
            await self._answer(message, "desk_help")
            return
        await handler(message, ticket, customer, rest.strip())

    async def _answer(self, message: Message, key: str, **values: object) -> None:
        assert message.message_thread_id is not None
        await self.desk.note(message.message_thread_id, key, **values)

    async def grant(self, message: Message, ticket: Ticket, customer: Customer, argument: str) -> None:
        matched = DAYS.match(argument.lower())
        days = int(matched.group(1)) if matched else 0
        if not 1 <= days <= MAX_ADJUSTMENT_DAYS:
            await self._answer(message, "desk_grant_usage", max=MAX_ADJUSTMENT_DAYS)
            return
        operator = message.from_user.id if message.from_user and message.sender_chat is None else 0
        # The command's message id is the nonce: the same update handled twice grants once.
        nonce = f"desk-{abs(message.chat.id)}-{message.message_id}"[-24:]
        outcome = await operations.adjust_days(self.desk.ctx, operator, customer.id, days, nonce)
        if not outcome.first:
            await self._answer(message, "desk_grant_repeat", date=date(outcome.expires_at))
            return
        await self._answer(message, "desk_granted", days=days, date=date(outcome.expires_at))
        await self.desk.tell_customer(customer, "days_added", days=days, date=date(outcome.expires_at))

    async def ban(self, message: Message, ticket: Ticket, customer: Customer, argument: str) -> None:
        await self._set_banned(message, customer, True)

    async def unban(self, message: Message, ticket: Ticket, customer: Customer, argument: str) -> None:
        await self._set_banned(message, customer, False)

    async def _set_banned(self, message: Message, customer: Customer, banned: bool) -> None:
        if not await operations.set_banned(self.desk.ctx.sessions, customer.id, banned):
            await self._answer(message, "desk_ban_unchanged")
            return
        operator = message.from_user.id if message.from_user else None
        log.info(
            "support operator %s %s customer %s", operator, "banned" if banned else "unbanned", customer.id
        )
        await self.access_sync.sync(customer.id)
        await self._answer(message, "desk_banned" if banned else "desk_unbanned")

    async def link(self, message: Message, ticket: Ticket, customer: Customer, argument: str) -> None:
        access = await access_of(self.desk.ctx.sessions, customer.id)
        if not access.active or access.token is None:
            await self._answer(message, "desk_link_none")
            return
        calls = access_card(
            self.desk.bot, customer.id, customer.language, access, self.desk.ctx.settings, "heading_link"
        )
        for call in calls:
            outcome, reason, _ = await self.desk.send(customer.id, call)
            if outcome is SendOutcome.BLOCKED:
                await self._answer(message, "desk_blocked")
                return
            if outcome is SendOutcome.FAILED:
                await self._answer(message, "desk_failed", reason=escape(reason or "?"))
                return
        await self._answer(message, "desk_link_sent")

    async def quick(self, message: Message, ticket: Ticket, customer: Customer, argument: str) -> None:
        action, _, rest = argument.partition(" ")
        try:
            if action == "":
                names = await quick.names(self.desk.ctx.sessions)
                if not names:
                    await self._answer(message, "desk_quick_empty")
                else:
                    await self._answer(message, "desk_quick_list", names=", ".join(names))
            elif action == "add":
                name, _, text = rest.strip().partition(" ")
                operator = message.from_user.id if message.from_user else 0
                await quick.save(self.desk.ctx.sessions, name, text, operator)
                await self._answer(message, "desk_quick_saved", name=name.lower())
            elif action in ("del", "delete"):
                removed = await quick.remove(self.desk.ctx.sessions, rest.strip())
                await self._answer(
                    message,
                    "desk_quick_deleted" if removed else "desk_quick_missing",
                    name=rest.strip().lower(),
                )
            else:
                raise QuickReplyError(action)
        except QuickReplyError:
            await self._answer(message, "desk_quick_usage")

    async def send_quick(self, message: Message, ticket: Ticket, customer: Customer, argument: str) -> None:
        try:
            text = await quick.get(self.desk.ctx.sessions, argument)
        except QuickReplyError:
            await self._answer(message, "desk_quick_usage")
            return
        if text is None:
            await self._answer(message, "desk_quick_missing", name=argument.lower())
            return
        await self.desk.send_text(message, ticket, customer, text)
