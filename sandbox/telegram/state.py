"""The sandbox's world: the bot, its users and channels, chats with their messages, the update queue."""

from __future__ import annotations

import asyncio
import contextlib
import io
import itertools
import math
import time
from collections import Counter, deque
from typing import Any

from PIL import Image

from sandbox.telegram.records import (
    BotApiError,
    CallbackAnswer,
    Channel,
    Charge,
    Group,
    Invoice,
    PreCheckout,
    SandboxUser,
    SentMessage,
    bad_request,
)

# Update types Telegram sends when a bot never chose (Bot API getUpdates.allowed_updates).
DEFAULT_EXCLUDED = {"chat_member", "message_reaction", "message_reaction_count"}
SENDING_METHODS = {"sendmessage", "sendphoto", "sendinvoice", "copymessage"}
# Media besides photos, as Bot API objects (a location is no file, but a copy carries it the same way).
FILE_KINDS = ("video", "document", "voice", "sticker", "location")
# Service messages of forum topics (Bot API Message fields); they cannot be copied.
TOPIC_SERVICE = ("forum_topic_created", "forum_topic_edited", "forum_topic_closed", "forum_topic_reopened")
MIGRATION_SERVICE = ("migrate_to_chat_id", "migrate_from_chat_id")
# Who Telegram names as the sender of a message an anonymous admin posts as the group.
GROUP_ANONYMOUS_BOT = {"id": 1087968824, "is_bot": True, "first_name": "Group"} | {
    "username": "GroupAnonymousBot"
}
UPGRADED = "group chat was upgraded to a supergroup chat"


class World:
    def __init__(self, token: str, bot_username: str) -> None:
        self.token = token
        self.bot_id = int(token.split(":", 1)[0])
        self.bot_username = bot_username
        self.users: dict[int, SandboxUser] = {}
        self.channels: dict[int, Channel] = {}
        self.groups: dict[int, Group] = {}
        self.chats: dict[int, list[SentMessage]] = {}
        self._message_ids: dict[int, itertools.count[int]] = {}
        self.files: dict[str, bytes] = {}
        self.invoice_links: dict[str, Invoice] = {}
        self.charges: dict[str, Charge] = {}
        self.star_transactions: list[dict[str, Any]] = []  # the bot's Star ledger, oldest first
        self.pre_checkouts: dict[str, PreCheckout] = {}
        self.callbacks: dict[str, tuple[int, CallbackAnswer | None]] = {}
        self.commands: dict[tuple[str, str], list[dict[str, str]]] = {}
        self.calls: list[tuple[str, dict[str, Any]]] = []  # every method call, in order
        self.pre_checkout_timeout = 10.0
        self.rate_limit: int | None = None  # messages per second, all chats together
        self.flood_after: int | None = None  # sends left before a flood wait starts
        self.flood_seconds = 0
        self.flood_until = 0.0
        self._sent_times: deque[float] = deque()
        # What Telegram would see: sends accepted per wall-clock second, and the 429s answered.
        self.sends_per_second: Counter[int] = Counter()
        self.too_many_requests = 0
        self._ids = itertools.count(1)
        # Updates: a queue Telegram keeps until the bot confirms them (offset or a 2xx webhook answer).
        self.updates: list[dict[str, Any]] = []
        self.delivered: list[dict[str, Any]] = []  # every update ever enqueued (for redelivery)
        self._update_ids = itertools.count(1)
        self.confirmed_up_to = 0
        self.allowed_updates: list[str] | None = None
        self.changed = asyncio.Condition()
        self.webhook: dict[str, Any] = {}
        self.webhook_error: tuple[int, str] | None = None
        self.closing = False  # set on shutdown: pending long polls return at once

    # --- identities -------------------------------------------------------------------------
    def bot_user(self) -> dict[str, Any]:
        name = {"first_name": "Sandbox Shop", "username": self.bot_username}
        return {"id": self.bot_id, "is_bot": True} | name

    def next_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids)}"

    def recipient(self, chat_id: int | str) -> SandboxUser | Channel | Group:
        """The chat a bot writes to; Telegram's errors for unknown chats and users who blocked the bot."""
        if isinstance(chat_id, int) and chat_id in self.groups:
            return self.group(chat_id)
        if isinstance(chat_id, str):
            channel = self.channel(chat_id)
            if not channel.bot_is_admin:
                raise BotApiError(403, "Forbidden: bot is not a member of the channel chat")
            return channel
        if chat_id in self.channels:
            return self.recipient(f"@{self.channels[chat_id].username}")
        user = self.users.get(chat_id)
        if user is None:
            raise bad_request("chat not found")
        if user.blocked_bot:
            raise BotApiError(403, "Forbidden: bot was blocked by the user")
        return user

    def group(self, chat_id: int | str) -> Group:
        """A group the bot may write to: an upgraded basic group answers with its supergroup's id."""
        group = self.groups.get(chat_id) if isinstance(chat_id, int) else None
        if group is None or group.bot_status in ("left", "kicked"):
            raise bad_request("chat not found")
        if group.migrated_to is not None:
            raise BotApiError(400, f"Bad Request: {UPGRADED}", migrate_to_chat_id=group.migrated_to)
        return group

    def thread(self, chat_id: int, thread_id: int | None) -> int | None:
        """The topic a message goes to (`message_thread_id`): it must exist in that forum."""
        if thread_id is None:
            return None
        group = self.groups.get(chat_id)
        topic = group.topics.get(thread_id) if group is not None and group.is_forum else None
        if topic is None or topic.deleted:
            raise bad_request("message thread not found")
        return thread_id

    def channel(self, chat_id: int | str) -> Channel:
        for channel in self.channels.values():
            if chat_id in (channel.id, f"@{channel.username}") or (
                isinstance(chat_id, str) and chat_id.lower() == f"@{channel.username}".lower()
            ):
                return channel
        raise bad_request("chat not found")

    # --- messages -----------------------------------------------------------------------------
    def media_fields(self, kind: str, data: bytes, file_name: str = "file.bin") -> dict[str, Any]:
        """What a person's message of `kind` holds, as Bot API objects; the bytes kept by file_id."""
        file_id = self.next_id(f"{kind}-")
        self.files[file_id] = data
        ids = {"file_id": file_id, "file_unique_id": file_id, "file_size": len(data)}
        if kind == "photo":
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
            return {"photo": data, "extra": {"photo_sizes": [ids | {"width": width, "height": height}]}}
        objects = {
            "video": ids | {"width": 640, "height": 360, "duration": 5},
            "document": ids | {"file_name": file_name, "mime_type": "application/octet-stream"},
            "voice": ids | {"duration": 3, "mime_type": "audio/ogg"},
            "sticker": ids
            | {"type": "regular", "width": 512, "height": 512, "is_animated": False}
            | {"is_video": False},
            "location": {"latitude": 55.75, "longitude": 37.62},
        }
        if kind not in objects:
            raise ValueError(f"unsupported media kind {kind!r}: photo, {', '.join(objects)}")
        return {"extra": {kind: objects[kind]}}

    def add_message(self, chat_id: int, from_bot: bool, **fields: Any) -> SentMessage:
        counter = self._message_ids.setdefault(chat_id, itertools.count(1))
        message = SentMessage(chat_id, next(counter), from_bot, int(time.time()), **fields)
        self.chats.setdefault(chat_id, []).append(message)
        return message

    def find_message(self, chat_id: int | str, message_id: int | None, missing: str) -> SentMessage:
        if isinstance(chat_id, str):
            chat_id = self.channel(chat_id).id
        for message in self.chats.get(chat_id, []):
            if message.message_id == message_id and not message.deleted:
                return message
        raise bad_request(missing)

    def chat_json(self, chat_id: int) -> dict[str, Any]:
        if chat_id in self.users:
            return self.users[chat_id].as_chat()
        if chat_id in self.groups:
            return self.groups[chat_id].as_chat()
        channel = self.channels[chat_id]
        return {"id": channel.id, "type": "channel", "title": channel.title, "username": channel.username}

    def message_json(self, message: SentMessage) -> dict[str, Any]:
        data: dict[str, Any] = {
            "message_id": message.message_id,
            "date": message.date,
            "chat": self.chat_json(message.chat_id),
        }
        if message.from_bot:
            data["from"] = self.bot_user()
        elif message.as_group:
            data["from"], data["sender_chat"] = GROUP_ANONYMOUS_BOT, self.chat_json(message.chat_id)
        elif message.sender_id is not None:
            data["from"] = self.users[message.sender_id].as_user()
        elif message.chat_id in self.users:
            data["from"] = self.users[message.chat_id].as_user()
        if message.thread_id is not None:
            data["message_thread_id"], data["is_topic_message"] = message.thread_id, True
        if message.text is not None:
            data["text"] = message.text
            if not message.from_bot and message.text.startswith("/"):
                command = message.text.split()[0]
                data["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        if message.caption is not None:
            data["caption"] = message.caption
        if message.photo is not None:
            data["photo"] = message.extra["photo_sizes"]
        for kind in FILE_KINDS:
            if kind in message.extra:
                data[kind] = message.extra[kind]
        if message.invoice is not None:
            invoice = message.invoice
            data["invoice"] = {
                "title": invoice.title,
                "description": invoice.description,
                "start_parameter": "",
                "currency": invoice.currency,
                "total_amount": invoice.total_amount,
            }
        for key in ("successful_payment", "refunded_payment", *TOPIC_SERVICE, *MIGRATION_SERVICE):
            if key in message.extra:
                data[key] = message.extra[key]
        if message.reply_markup is not None and "inline_keyboard" in message.reply_markup:
            data["reply_markup"] = message.reply_markup
        if message.edited:
            data["edit_date"] = int(time.time())
        return data

    def throttle(self, method: str) -> None:
        """The global send limit: 429 with `retry_after` once `rate_limit` messages went out this second."""
        if method not in SENDING_METHODS:
            return
        now = time.monotonic()
        try:
            self._flood_wait(now)
            self._rate(now)
        except BotApiError:
            self.too_many_requests += 1
            raise
        self.sends_per_second[int(time.time())] += 1

    def _rate(self, now: float) -> None:
        """At most `rate_limit` sends in any one-second window (a sliding window, stricter than
        Telegram's own accounting, so a pace that passes here passes there)."""
        if self.rate_limit is None:
            return
        while self._sent_times and now - self._sent_times[0] >= 1.0:
            self._sent_times.popleft()
        if len(self._sent_times) >= self.rate_limit:
            retry_after = max(1, math.ceil(self._sent_times[0] + 1.0 - now))
            raise BotApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after)
        self._sent_times.append(now)

    def _flood_wait(self, now: float) -> None:
        """Telegram's FLOOD_WAIT: after a number of sends, every send waits `flood_seconds`."""
        if self.flood_after is not None:
            if self.flood_after == 0:
                self.flood_after, self.flood_until = None, now + self.flood_seconds
            else:
                self.flood_after -= 1
        if now < self.flood_until:
            retry_after = max(1, math.ceil(self.flood_until - now))
            raise BotApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after)

    # --- Stars ledger -----------------------------------------------------------------------
    def record_star_transaction(self, charge: Charge, refund: bool = False) -> None:
        """A charge is an incoming transaction from the user; its refund an outgoing one to them with
        the same id (Bot API StarTransaction)."""
        partner = {
            "type": "user",
            "transaction_type": "invoice_payment",
            "user": self.users[charge.user_id].as_user(),
            "invoice_payload": charge.payload,
        }
        self.star_transactions.append(
            {
                "id": charge.id,
                "amount": charge.total_amount,
                "date": int(time.time()) if refund else charge.date,
                "receiver" if refund else "source": partner,
            }
        )

    # --- updates ------------------------------------------------------------------------------
    async def enqueue(self, kind: str, body: dict[str, Any]) -> int:
        update_id = next(self._update_ids)
        async with self.changed:
            self.updates.append({"update_id": update_id, kind: body})
            self.delivered.append(self.updates[-1])
            self.changed.notify_all()
        return update_id

    def deliverable(self, offset: int) -> list[dict[str, Any]]:
        """Updates from `offset` on, of the types the bot asked for (Telegram drops the others)."""
        kept = []
        for update in self.updates:
            kind = next(key for key in update if key != "update_id")
            allowed = kind in self.allowed_updates if self.allowed_updates else kind not in DEFAULT_EXCLUDED
            if allowed:
                kept.append(update)
            elif update["update_id"] > self.confirmed_up_to:
                self.confirmed_up_to = update["update_id"]
        self.updates = kept
        return [update for update in kept if update["update_id"] >= offset]

    async def confirm(self, up_to: int) -> None:
        async with self.changed:
            self.updates = [update for update in self.updates if update["update_id"] > up_to]
            self.confirmed_up_to = max(self.confirmed_up_to, up_to)
            self.changed.notify_all()

    async def close(self) -> None:
        async with self.changed:
            self.closing = True
            self.changed.notify_all()

    async def wait_changed(self, seconds: float) -> None:
        async with self.changed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), seconds)
