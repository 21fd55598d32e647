"""TelegramSandbox: the HTTP server, webhook delivery, and the Python control API tests use."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from sandbox.serving import serve
from sandbox.telegram.forum import ForumControl
from sandbox.telegram.methods import BotApi
from sandbox.telegram.params import Params, Upload
from sandbox.telegram.records import (
    BotApiError,
    CallbackAnswer,
    Channel,
    Charge,
    Invoice,
    PreCheckout,
    SandboxUser,
    SentMessage,
)
from sandbox.telegram.state import World

DEFAULT_TOKEN = "123456789:SANDBOX-bot-token"


class TelegramSandbox(ForumControl):
    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        bot_username: str = "sandbox_shop_bot",
        webhook_retry_delay: float = 0.2,
    ) -> None:
        self.world = World(token, bot_username)
        self.api = BotApi(self.world)
        self.token = token
        self.api_url = ""
        self.webhook_retry_delay = webhook_retry_delay
        self.webhook_deliveries: list[tuple[int, int | str]] = []  # (update_id, HTTP status or error)
        self._stack = contextlib.AsyncExitStack()
        self._chat_instances = itertools.count(1)

    # --- lifecycle ----------------------------------------------------------------------------
    async def __aenter__(self) -> TelegramSandbox:
        app = Starlette(routes=[Route("/bot{token}/{method}", self._endpoint, methods=["GET", "POST"])])
        self.api_url = await self._stack.enter_async_context(serve(app))
        self._stack.push_async_callback(self.world.close)
        deliverer = asyncio.create_task(self._deliver_webhooks())
        self._stack.push_async_callback(_cancel, deliverer)
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._stack.aclose()

    async def _endpoint(self, request: Request) -> JSONResponse:
        if request.path_params["token"] != self.token:
            return JSONResponse({"ok": False, "error_code": 401, "description": "Unauthorized"}, 401)
        try:
            result = await self.api.call(request.path_params["method"], await _params(request))
        except BotApiError as error:
            return JSONResponse(error.body(), error.code)
        return JSONResponse({"ok": True, "result": result})

    async def _deliver_webhooks(self) -> None:
        """Posts each update to the webhook in order and redelivers it until the bot answers 2xx."""
        world = self.world
        async with httpx.AsyncClient(timeout=60) as client:
            while True:
                url = world.webhook.get("url")
                ready = world.deliverable(0) if url else []
                if not url or not ready:
                    await world.wait_changed(0.5)
                    continue
                update = ready[0]
                headers = {}
                if world.webhook.get("secret_token"):
                    headers["X-Telegram-Bot-Api-Secret-Token"] = world.webhook["secret_token"]
                try:
                    response = await client.post(url, json=update, headers=headers)
                except httpx.HTTPError as error:
                    self._webhook_failed(update, f"Connection failed: {type(error).__name__}")
                    continue
                if not response.is_success:
                    status = f"{response.status_code} {response.reason_phrase}"
                    self._webhook_failed(update, f"Wrong response from the webhook: {status}")
                    continue
                self.webhook_deliveries.append((update["update_id"], response.status_code))
                await world.confirm(update["update_id"])
                await self._run_webhook_reply(response)

    def _webhook_failed(self, update: dict[str, Any], message: str) -> None:
        self.webhook_deliveries.append((update["update_id"], message))
        self.world.webhook_error = (int(time.time()), message)

    async def _run_webhook_reply(self, response: httpx.Response) -> None:
        # A bot may answer a webhook with one method call in the body; Telegram runs it, reporting nothing.
        with contextlib.suppress(ValueError):
            body = response.json()
            if isinstance(body, dict) and isinstance(body.get("method"), str):
                with contextlib.suppress(BotApiError):
                    await self.api.call(body.pop("method"), Params(body))

    # --- people, channels, limits -------------------------------------------------------------
    def add_user(
        self,
        user_id: int,
        first_name: str = "User",
        *,
        username: str | None = None,
        last_name: str | None = None,
        language_code: str | None = "ru",
    ) -> SandboxUser:
        """A Telegram user who has opened a chat with the bot."""
        user = SandboxUser(user_id, first_name, last_name, username, language_code)
        self.world.users[user_id] = user
        return user

    def block(self, user_id: int, blocked: bool = True) -> None:
        """The user blocked (or unblocked) the bot: sends to them answer 403."""
        self.world.users[user_id].blocked_bot = blocked

    def add_channel(
        self, username: str, *, bot_is_admin: bool = True, channel_id: int | None = None
    ) -> Channel:
        username = username.lstrip("@")
        channel = Channel(channel_id or -1001000000000 - len(self.world.channels), username, username.title())
        channel.bot_is_admin = bot_is_admin
        self.world.channels[channel.id] = channel
        return channel

    def set_membership(self, channel: str, user_id: int, status: str = "member") -> None:
        """status: creator, administrator, member, left or kicked."""
        self.world.channel(f"@{channel.lstrip('@')}").members[user_id] = status

    def set_bot_admin(self, channel: str, is_admin: bool) -> None:
        self.world.channel(f"@{channel.lstrip('@')}").bot_is_admin = is_admin

    def set_rate_limit(self, per_second: int | None) -> None:
        """Messages per second over all chats before 429 "retry after N" (None: no limit)."""
        self.world.rate_limit = per_second

    def flood_wait(self, after: int, seconds: int) -> None:
        """After `after` more sends, every send answers 429 "retry after N" for `seconds`."""
        self.world.flood_after, self.world.flood_seconds = after, seconds

    def set_pre_checkout_timeout(self, seconds: float) -> None:
        self.world.pre_checkout_timeout = seconds

    # --- updates from users -------------------------------------------------------------------
    async def send_text(self, user_id: int, text: str) -> int:
        """The user writes `text` (a command too); returns the update id."""
        message = self.world.add_message(user_id, False, text=text)
        return await self.world.enqueue("message", self.world.message_json(message))

    async def send_media(
        self, user_id: int, kind: str, data: bytes, caption: str | None = None, file_name: str = "file.bin"
    ) -> int:
        """The user sends a photo (image bytes), a video, a document, a voice message or a sticker
        (no caption), or shares a "location" (data ignored); returns the update id."""
        fields = self.world.media_fields(kind, data, file_name)
        message = self.world.add_message(user_id, False, caption=caption, **fields)
        return await self.world.enqueue("message", self.world.message_json(message))

    async def redeliver(self, update_id: int) -> int:
        """Telegram sends an update again (the bot's confirmation was lost): the same message, a new
        update id."""
        body = next(update for update in self.world.delivered if update["update_id"] == update_id)
        kind = next(key for key in body if key != "update_id")
        return await self.world.enqueue(kind, body[kind])

    async def press(self, user_id: int, message: SentMessage, button_text: str) -> str:
        """The user taps the callback button of `message` whose text contains `button_text`."""
        current = self.world.find_message(message.chat_id, message.message_id, "message not found")
        button = current.button(button_text)
        if "callback_data" not in button:
            raise LookupError(f"button {button['text']!r} is not a callback button: {button}")
        return await self.send_callback(user_id, current.message_id, button["callback_data"])

    async def send_callback(self, user_id: int, message_id: int, data: str) -> str:
        """A callback query with any data (stale or forged ones too); returns the query id."""
        message = self.world.find_message(user_id, message_id, "message not found")
        query_id = self.world.next_id("cbq-")
        self.world.callbacks[query_id] = (user_id, None)
        body = {
            "id": query_id,
            "from": self.world.users[user_id].as_user(),
            "message": self.world.message_json(message),
            "chat_instance": str(next(self._chat_instances)),
            "data": data,
        }
        await self.world.enqueue("callback_query", body)
        return query_id

    async def pre_checkout(
        self, user_id: int, payload: str, total_amount: int, currency: str = "XTR"
    ) -> PreCheckout:
        query = PreCheckout(self.world.next_id("pcq-"), user_id, payload, currency, total_amount)
        self.world.pre_checkouts[query.id] = query
        body = {
            "id": query.id,
            "from": self.world.users[user_id].as_user(),
            "currency": currency,
            "total_amount": total_amount,
            "invoice_payload": payload,
        }
        await self.world.enqueue("pre_checkout_query", body)
        return query

    async def pay(self, user_id: int, invoice: Invoice | SentMessage, lost: bool = False) -> Charge | None:
        """The user pays an invoice as Telegram runs it: a pre-checkout query, then, only if the bot
        answered ok within the deadline, a successful_payment. Returns the charge, or None if refused.
        `lost`: the charge is made but its successful_payment never reaches the bot."""
        if isinstance(invoice, SentMessage):
            if invoice.invoice is None:
                raise LookupError(f"message {invoice.message_id} is not an invoice")
            invoice = invoice.invoice
        query = await self.pre_checkout(user_id, invoice.payload, invoice.total_amount, invoice.currency)
        with contextlib.suppress(TimeoutError):
            await self.wait_for(lambda: query.answered, self.world.pre_checkout_timeout)
        if not query.ok:
            return None
        return await self.successful_payment(
            user_id, invoice.payload, invoice.total_amount, currency=invoice.currency, lost=lost
        )

    async def successful_payment(
        self,
        user_id: int,
        payload: str,
        total_amount: int,
        charge_id: str | None = None,
        currency: str = "XTR",
        lost: bool = False,
    ) -> Charge:
        """Injects a successful_payment message (a repeated `charge_id` models a duplicate delivery).
        `lost`: the charge lands in the Stars ledger, the update never reaches the bot (dropped
        pending updates, a bot down for more than the 24 h Telegram keeps them)."""
        charge = self.world.charges.get(charge_id or "")
        if charge is None:
            new_id = charge_id or f"stxSandbox{self.world.next_id('')}"
            charge = Charge(new_id, user_id, payload, total_amount, currency)
            self.world.charges[charge.id] = charge
            self.world.record_star_transaction(charge)
        if lost:
            return charge
        paid = {
            "currency": currency,
            "total_amount": total_amount,
            "invoice_payload": payload,
            "telegram_payment_charge_id": charge.id,
            "provider_payment_charge_id": "",
        }
        message = self.world.add_message(user_id, False, extra={"successful_payment": paid})
        await self.world.enqueue("message", self.world.message_json(message))
        return charge

    async def refunded_payment(self, charge_id: str) -> int:
        """A refund made outside the bot (e.g. by Telegram support): the refunded_payment message."""
        charge = self.world.charges[charge_id]
        charge.refunded = True
        self.world.record_star_transaction(charge, refund=True)
        return await self.api.inject_refund(charge)

    # --- waiting ------------------------------------------------------------------------------
    async def settle(self, seconds: float = 15.0) -> None:
        """Waits until the bot confirmed every injected update (next getUpdates offset, or a 2xx webhook
        answer). With handle_as_tasks=False polling or inline webhook handling, confirmed = handled."""
        deadline = time.monotonic() + seconds
        while self.world.updates and self.world.updates[-1]["update_id"] > self.world.confirmed_up_to:
            if time.monotonic() > deadline:
                raise TimeoutError(f"updates not confirmed by the bot: {self.world.updates}")
            await self.world.wait_changed(0.05)

    async def wait_for(self, check: Callable[[], Any], seconds: float = 10.0) -> Any:
        """Polls `check()` until it returns something truthy (for work that finishes after an update)."""
        deadline = time.monotonic() + seconds
        while not (result := check()):
            if time.monotonic() > deadline:
                raise TimeoutError("condition not met in time")
            await asyncio.sleep(0.02)
        return result

    # --- reading ------------------------------------------------------------------------------
    def messages(self, chat_id: int, include_deleted: bool = False) -> list[SentMessage]:
        """The bot's messages in a chat, oldest first, as they stand now (edits applied)."""
        return [
            m for m in self.world.chats.get(chat_id, []) if m.from_bot and (include_deleted or not m.deleted)
        ]

    def last(self, chat_id: int) -> SentMessage:
        sent = self.messages(chat_id)
        if not sent:
            raise LookupError(f"the bot sent nothing to {chat_id}")
        return sent[-1]

    def callback_answer(self, query_id: str) -> CallbackAnswer | None:
        return self.world.callbacks[query_id][1]

    def calls(self, method: str) -> list[dict[str, Any]]:
        return [params for name, params in self.world.calls if name.lower() == method.lower()]

    def invoice(self, link: str) -> Invoice:
        return self.world.invoice_links[link]

    def commands(self, scope: str = "default", language: str = "") -> list[dict[str, str]]:
        return self.world.commands.get((scope, language), [])


async def _params(request: Request) -> Params:
    values: dict[str, Any] = dict(request.query_params)
    if request.headers.get("content-type", "").startswith("application/json"):
        body = await request.body()
        if body:
            try:
                values.update(json.loads(body))
            except json.JSONDecodeError:
                raise BotApiError(400, "Bad Request: can't parse JSON object") from None
        return Params(values)
    if request.method == "POST":
        # Uploads are spooled to temporary files: read them, then close the form to release those.
        async with request.form() as form:
            for key, value in form.multi_items():
                if isinstance(value, UploadFile):
                    values[key] = Upload(value.filename or key, await value.read())
                else:
                    values[key] = value
    return Params(values)


async def _cancel(task: asyncio.Task[None]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
