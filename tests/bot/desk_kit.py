"""The support desk's own bot (SUPPORT_BOT_TOKEN) polling the Telegram sandbox, with its operators'
forum group: `await ann.says("hi")`, `await desk.operator_says(topic, "hello")`."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from aiogram import Bot, Dispatcher
from pydantic import SecretStr
from temporalio.client import Client

from bot.main import build_bot
from bot.support.main import build_support_dispatcher
from bot.support.routers import resume
from sandbox.telegram import SentMessage, TelegramSandbox
from sandbox.telegram.records import Group, Topic
from shop.context import AppContext
from shop.support import journal, tickets
from shop.support.journal import Entry
from tests.conftest import Database, make_context
from worker.main import build_worker

SUPPORT_TOKEN = "987654321:SANDBOX-support-token"
OPERATOR, MEMBER = 500, 501


@dataclass
class SupportDesk:
    tg: TelegramSandbox
    ctx: AppContext
    group: Group
    bot: Bot
    polling: list[asyncio.Task[None]] = field(default_factory=list)
    dispatcher: Dispatcher | None = None

    async def start(self) -> None:
        """The desk's process starts (again): a fresh Dispatcher polls, as after a restart."""
        self.dispatcher = build_support_dispatcher(self.ctx)
        await resume(self.dispatcher, self.bot)
        self.polling.append(
            asyncio.create_task(
                self.dispatcher.start_polling(self.bot, handle_signals=False, handle_as_tasks=False)
            )
        )
        calls = len(self.tg.calls("getUpdates"))
        await self.tg.wait_for(lambda: len(self.tg.calls("getUpdates")) > calls)

    async def stop(self) -> None:
        assert self.dispatcher is not None
        await self.dispatcher.stop_polling()
        await self.polling[-1]

    def customer(
        self, user_id: int, name: str, username: str | None = None, language: str = "en"
    ) -> Customer:
        self.tg.add_user(user_id, name, username=username, language_code=language)
        return Customer(self, user_id)

    @property
    def chat_id(self) -> int:
        return self.group.id

    def topics(self) -> list[Topic]:
        return [topic for topic in self.tg.topics(self.chat_id) if not topic.deleted]

    def topic_of(self, name_part: str) -> Topic:
        found = [topic for topic in self.topics() if name_part in topic.name]
        assert len(found) == 1, [topic.name for topic in self.tg.topics(self.chat_id)]
        return found[0]

    def in_topic(self, topic: Topic) -> list[SentMessage]:
        """What people see in the topic: messages, copies and notes, not the service messages."""
        return [
            message
            for message in self.tg.in_topic(self.chat_id, topic.thread_id)
            if not message.extra.keys()
            & {"forum_topic_created", "forum_topic_closed", "forum_topic_reopened"}
        ]

    def topic_texts(self, topic: Topic) -> list[str]:
        return [
            message.text or message.caption or message.media_kind or "" for message in self.in_topic(topic)
        ]

    async def operator_says(
        self,
        topic: Topic,
        text: str | None = None,
        *,
        by: int | None = OPERATOR,
        media: tuple[str, bytes] | None = None,
    ) -> SentMessage:
        posted = await self.tg.post(self.chat_id, by, text, thread_id=topic.thread_id, media=media)
        await self.tg.settle()
        return posted

    async def journal_of(self, user_id: int) -> list[Entry]:
        ticket = await tickets.ticket_of(self.ctx.sessions, user_id)
        assert ticket is not None
        return await journal.conversation(self.ctx.sessions, ticket.id)


@dataclass
class Customer:
    desk: SupportDesk
    id: int

    async def says(self, text: str) -> int:
        update = await self.desk.tg.send_text(self.id, text)
        await self.desk.tg.settle()
        return update

    async def sends(self, kind: str, data: bytes, caption: str | None = None) -> None:
        await self.desk.tg.send_media(self.id, kind, data, caption)
        await self.desk.tg.settle()

    @property
    def received(self) -> list[SentMessage]:
        return self.desk.tg.messages(self.id)

    @property
    def texts(self) -> list[str]:
        return [message.text or message.caption or message.media_kind or "" for message in self.received]


@contextlib.asynccontextmanager
async def open_desk(
    database: Database, client: Client, task_queue: str, *, basic_group: bool = False, **settings: Any
) -> AsyncIterator[SupportDesk]:
    """A support bot of its own in its own sandbox (another bot: customers chat with it), an
    operators' forum group where OPERATOR is an admin and MEMBER is not, and a worker (grants and
    bans run as workflows)."""
    async with (
        TelegramSandbox(SUPPORT_TOKEN, "sandbox_support_bot") as tg,
        contextlib.AsyncExitStack() as stack,
    ):
        group = tg.add_group("Support desk", basic=basic_group)
        for user_id, name, status in ((OPERATOR, "Olga", "administrator"), (MEMBER, "Max", "member")):
            tg.add_user(user_id, name)
            tg.set_group_member(group.id, user_id, status)
        values: dict[str, Any] = {
            "telegram_bot_token": SUPPORT_TOKEN,  # the worker's bot: the shop bot lives elsewhere
            "telegram_api_url": tg.api_url,
            "support_bot_token": SecretStr(SUPPORT_TOKEN),
            "support_chat_id": group.id,
            "support_language": "en",
            "public_base_url": "https://shop.example",
        }
        ctx = make_context(database, client, task_queue, **(values | settings))
        bot, worker_bot = build_bot(ctx.settings, ctx.settings.support_bot_token), build_bot(ctx.settings)
        stack.push_async_callback(bot.session.close)
        stack.push_async_callback(worker_bot.session.close)
        async with build_worker(ctx, client, bot=worker_bot):
            desk = SupportDesk(tg, ctx, group, bot)
            await desk.start()
            try:
                yield desk
            finally:
                if not desk.polling[-1].done():
                    await desk.stop()
