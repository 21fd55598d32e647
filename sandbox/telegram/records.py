"""What the sandbox remembers: users, chats, messages, invoices, Stars charges and callback answers."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any


class BotApiError(Exception):
    """An error answer of the Bot API: HTTP status = error_code, `description` as Telegram words it."""

    def __init__(
        self,
        code: int,
        description: str,
        retry_after: int | None = None,
        migrate_to_chat_id: int | None = None,
    ) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after
        self.migrate_to_chat_id = migrate_to_chat_id

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error_code": self.code, "description": self.description}
        parameters = {"retry_after": self.retry_after, "migrate_to_chat_id": self.migrate_to_chat_id}
        if any(value is not None for value in parameters.values()):
            body["parameters"] = {key: value for key, value in parameters.items() if value is not None}
        return body


def bad_request(what: str) -> BotApiError:
    return BotApiError(400, f"Bad Request: {what}")


@dataclass
class SandboxUser:
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = "ru"
    blocked_bot: bool = False

    def as_user(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            if getattr(self, key) is not None:
                data[key] = getattr(self, key)
        return data

    def as_chat(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "type": "private", "first_name": self.first_name}
        if self.last_name is not None:
            data["last_name"] = self.last_name
        if self.username is not None:
            data["username"] = self.username
        return data


@dataclass
class Channel:
    id: int
    username: str
    title: str
    bot_is_admin: bool = True
    members: dict[int, str] = field(default_factory=dict)  # user id -> status


@dataclass
class Topic:
    """A forum topic; its id is the id of the `forum_topic_created` service message that opened it."""

    thread_id: int
    name: str
    icon_color: int
    closed: bool = False
    deleted: bool = False


@dataclass
class Group:
    """A group the bot is in: "group" (basic) or "supergroup" (a forum when `is_forum`). A basic group
    upgraded to a supergroup keeps answering with `migrated_to`."""

    id: int
    title: str
    type: str = "supergroup"
    is_forum: bool = True
    bot_status: str = "administrator"
    bot_can_manage_topics: bool = True
    members: dict[int, str] = field(default_factory=dict)  # user id -> status
    topics: dict[int, Topic] = field(default_factory=dict)
    migrated_to: int | None = None

    def as_chat(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "type": self.type, "title": self.title}
        if self.is_forum:
            data["is_forum"] = True
        return data


@dataclass
class Invoice:
    title: str
    description: str
    payload: str
    currency: str
    total_amount: int
    link: str | None = None  # set for createInvoiceLink, None for an invoice message


@dataclass
class SentMessage:
    """A message in a chat, as it stands now (edits applied); `from_bot` tells who wrote it."""

    chat_id: int
    message_id: int
    from_bot: bool
    date: int
    text: str | None = None  # plain text after entity parsing (HTML tags removed)
    html: str | None = None  # the text as the bot sent it, before parsing
    caption: str | None = None
    reply_markup: dict[str, Any] | None = None
    photo: bytes | None = None
    invoice: Invoice | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # service payloads (successful_payment, ...)
    edited: bool = False
    deleted: bool = False
    thread_id: int | None = None  # the forum topic it was posted in
    sender_id: int | None = None  # who wrote it in a group (None: the bot, or the group itself)
    as_group: bool = False  # an anonymous admin posting as the group

    @property
    def media_kind(self) -> str | None:
        """ "photo", "video", "document", "voice", "sticker", or None for a text (or service) message."""
        if self.photo is not None:
            return "photo"
        return next((kind for kind in ("video", "document", "voice", "sticker") if kind in self.extra), None)

    @property
    def buttons(self) -> list[dict[str, Any]]:
        """Every inline button, row by row."""
        if not self.reply_markup:
            return []
        return [button for row in self.reply_markup.get("inline_keyboard", []) for button in row]

    @property
    def button_texts(self) -> list[str]:
        return [button["text"] for button in self.buttons]

    @property
    def keyboard_texts(self) -> list[str]:
        """Texts of a reply (persistent) keyboard's buttons."""
        if not self.reply_markup:
            return []
        rows = self.reply_markup.get("keyboard", [])
        return [button if isinstance(button, str) else button["text"] for row in rows for button in row]

    def button(self, text: str) -> dict[str, Any]:
        """The inline button whose text contains `text`."""
        for button in self.buttons:
            if text in button["text"]:
                return button
        raise LookupError(f"no button with {text!r} in {self.button_texts} (message {self.message_id})")


@dataclass
class Charge:
    """A Stars payment Telegram made: refundable once, by the paying user's id."""

    id: str
    user_id: int
    payload: str
    total_amount: int
    currency: str
    refunded: bool = False
    date: int = field(default_factory=lambda: int(time.time()))


@dataclass
class PreCheckout:
    id: str
    user_id: int
    payload: str
    currency: str
    total_amount: int
    created: float = field(default_factory=time.monotonic)
    answered: bool = False
    ok: bool | None = None
    error_message: str | None = None
    answered_after: float | None = None  # seconds from the query to the answer


@dataclass
class CallbackAnswer:
    text: str | None
    show_alert: bool
    url: str | None
