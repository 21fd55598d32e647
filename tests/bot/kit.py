"""Drive the real bot (aiogram Dispatcher, long polling) against the Telegram sandbox over HTTP, so
each test reads like a user story: `await alice.says("/start")`, `await alice.taps("Buy")`."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from aiogram import Bot, Dispatcher, Router
from temporalio.client import Client

from api.app import create_app
from api.server import server_options
from bot.main import build_bot, build_dispatcher
from sandbox.cryptopay import FakeCryptoPay
from sandbox.serving import serve
from sandbox.telegram import CallbackAnswer, SentMessage, TelegramSandbox
from sandbox.yookassa import FakeYooKassa
from shop.context import AppContext
from tests.conftest import Database, make_context
from tests.payments_env import settings_for
from worker.main import build_worker


@dataclass
class Shop:
    tg: TelegramSandbox
    ctx: AppContext
    bot: Bot
    dispatcher: Dispatcher
    yookassa: FakeYooKassa
    cryptopay: FakeCryptoPay

    def person(self, user_id: int, name: str, language: str = "ru", username: str | None = None) -> Person:
        self.tg.add_user(user_id, name, username=username, language_code=language)
        return Person(self, user_id)

    async def started(
        self, user_id: int, name: str, language: str = "ru", username: str | None = None
    ) -> Person:
        """A customer who has sent /start (and so is registered)."""
        person = self.person(user_id, name, language, username)
        await person.says("/start")
        return person


@dataclass
class Person:
    shop: Shop
    id: int

    async def says(self, text: str) -> None:
        await self.shop.tg.send_text(self.id, text)
        await self.shop.tg.settle()

    async def sends(self, kind: str, data: bytes, caption: str | None = None) -> None:
        """A photo (image bytes), a video or a document, as `TelegramSandbox.send_media` takes them."""
        await self.shop.tg.send_media(self.id, kind, data, caption)
        await self.shop.tg.settle()

    async def taps(
        self, button_text: str, on: SentMessage | None = None, within: float = 15.0
    ) -> CallbackAnswer | None:
        """Taps the button on `on`, or on the newest message that has such a button; `within`: how
        long the bot may take to handle it."""
        message = on or self.with_button(button_text)
        query = await self.shop.tg.press(self.id, message, button_text)
        await self.shop.tg.settle(within)
        return self.shop.tg.callback_answer(query)

    async def sends_callback(self, data: str, on: SentMessage | None = None) -> CallbackAnswer | None:
        """A callback with any data (stale or forged) on `on` or on the newest message."""
        query = await self.shop.tg.send_callback(self.id, (on or self.last).message_id, data)
        await self.shop.tg.settle()
        return self.shop.tg.callback_answer(query)

    def with_button(self, text: str) -> SentMessage:
        for message in reversed(self.messages):
            if any(text in label for label in message.button_texts):
                return message
        raise LookupError(f"no message of the bot to {self.id} has a button {text!r}")

    @property
    def messages(self) -> list[SentMessage]:
        return self.shop.tg.messages(self.id)

    @property
    def last(self) -> SentMessage:
        return self.shop.tg.last(self.id)

    @property
    def texts(self) -> list[str]:
        return [message.text or message.caption or "" for message in self.messages]


@contextlib.asynccontextmanager
async def open_shop(
    database: Database,
    client: Client,
    task_queue: str,
    *,
    providers: bool = False,
    extra_routers: tuple[Router, ...] = (),
    **settings: Any,
) -> AsyncIterator[Shop]:
    """The sandbox, a worker on the test's own queue, and the bot polling with handle_as_tasks=False
    (an update is confirmed only after it was handled, so `settle()` means "handled"). With
    `providers`, every payment method is on: YooKassa and Crypto Pay sandboxes send their webhooks
    to our API, Stars go through the Telegram sandbox, P2P shows `P2P_REQUISITES`."""
    async with TelegramSandbox() as tg, contextlib.AsyncExitStack() as stack:
        values: dict[str, Any] = {"telegram_bot_token": tg.token, "telegram_api_url": tg.api_url}
        yookassa, cryptopay = FakeYooKassa(), FakeCryptoPay()
        if providers:
            yookassa.base_url = await stack.enter_async_context(serve(yookassa.app))
            cryptopay_url = await stack.enter_async_context(serve(cryptopay.app))
            values |= settings_for(yookassa, yookassa.base_url, cryptopay, cryptopay_url)
        ctx = make_context(database, client, task_queue, **(values | settings))
        if providers:
            api = await stack.enter_async_context(serve(create_app(ctx), **server_options()))
            yookassa.webhooks.url = f"{api}/webhooks/yookassa"
            cryptopay.webhooks.url = f"{api}/webhooks/cryptopay"
            stack.push_async_callback(yookassa.webhooks.aclose)
            stack.push_async_callback(cryptopay.webhooks.aclose)
        bot, worker_bot = build_bot(ctx.settings), build_bot(ctx.settings)  # two processes in production
        stack.push_async_callback(bot.session.close)
        stack.push_async_callback(worker_bot.session.close)
        dispatcher = build_dispatcher(ctx, extra_routers)
        async with build_worker(ctx, client, bot=worker_bot):
            polling = asyncio.create_task(
                dispatcher.start_polling(bot, handle_signals=False, handle_as_tasks=False)
            )
            try:
                await tg.wait_for(lambda: tg.calls("getUpdates"))
                yield Shop(tg, ctx, bot, dispatcher, yookassa, cryptopay)
            finally:
                await dispatcher.stop_polling()
                await polling
