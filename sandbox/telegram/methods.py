"""The Bot API methods the sandbox answers, with Telegram's validation and error descriptions."""

from __future__ import annotations

import io
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

from PIL import Image, UnidentifiedImageError

from sandbox.telegram.forum import FORUM_METHODS, ForumMethods
from sandbox.telegram.markup import MAX_CAPTION, MAX_TEXT, check_reply_markup, rendered
from sandbox.telegram.params import Params
from sandbox.telegram.records import BotApiError, CallbackAnswer, Charge, Invoice, bad_request
from sandbox.telegram.state import FILE_KINDS, MIGRATION_SERVICE, TOPIC_SERVICE, World

SECRET_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
COMMAND = re.compile(r"^[a-z0-9_]{1,32}$")
CHAT_ACTIONS = {
    "typing",
    "upload_photo",
    "record_video",
    "upload_video",
    "record_voice",
    "upload_voice",
    "upload_document",
    "choose_sticker",
    "find_location",
    "record_video_note",
    "upload_video_note",
}
MEDIA_KEYS = ("photo_sizes", *FILE_KINDS)  # what a copy carries over besides text and caption
STARS_SUBSCRIPTION_PERIOD = 2592000
MAX_STARS = 10000
QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the same "
    "as a content and reply markup of the current message"
)

METHODS = (
    "getMe",
    "getUpdates",
    "setWebhook",
    "deleteWebhook",
    "getWebhookInfo",
    "sendMessage",
    "editMessageText",
    "editMessageReplyMarkup",
    "deleteMessage",
    "answerCallbackQuery",
    "sendPhoto",
    "sendInvoice",
    "createInvoiceLink",
    "answerPreCheckoutQuery",
    "refundStarPayment",
    "getStarTransactions",
    "setMyCommands",
    "getMyCommands",
    "deleteMyCommands",
    "copyMessage",
    "sendChatAction",
    *FORUM_METHODS,
)
UNCOPYABLE = {"successful_payment", "refunded_payment", *TOPIC_SERVICE, *MIGRATION_SERVICE}
Handler = Callable[[Params], Awaitable[Any]]


class BotApi(ForumMethods):
    def __init__(self, world: World) -> None:
        self.world = world
        self.handlers: dict[str, Handler] = {name.lower(): getattr(self, name) for name in METHODS}

    async def call(self, method: str, params: Params) -> Any:
        handler = self.handlers.get(method.lower())
        if handler is None:
            raise BotApiError(404, "Not Found")
        self.world.calls.append((method, dict(params.values)))
        self.world.throttle(method.lower())
        return await handler(params)

    # --- identity, updates, webhook ----------------------------------------------------------
    async def getMe(self, p: Params) -> Any:
        return self.world.bot_user() | {
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    async def getUpdates(self, p: Params) -> Any:
        world = self.world
        if world.webhook.get("url"):
            raise BotApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to "
                "delete the webhook first",
            )
        offset = p.integer("offset", 0) or 0
        limit = min(max(p.integer("limit", 100) or 100, 1), 100)
        timeout = max(p.integer("timeout", 0) or 0, 0)
        allowed = p.obj("allowed_updates")
        if allowed is not None:
            world.allowed_updates = allowed or None
        if offset > 0:
            await world.confirm(offset - 1)
        deadline = time.monotonic() + timeout
        while True:
            ready = world.deliverable(offset)
            remaining = deadline - time.monotonic()
            if ready or remaining <= 0 or world.closing:
                return ready[:limit]
            await world.wait_changed(min(remaining, 1.0))

    async def setWebhook(self, p: Params) -> Any:
        url = p.text("url", "") or ""
        if url and not re.match(r"^https?://", url):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = p.text("secret_token")
        if secret is not None and not SECRET_TOKEN.match(secret):
            raise bad_request("secret token contains unallowed characters")
        if p.flag("drop_pending_updates"):
            await self._drop_pending()
        allowed = p.obj("allowed_updates")
        if allowed is not None:
            self.world.allowed_updates = allowed or None
        self.world.webhook = {"url": url, "secret_token": secret} if url else {}
        self.world.webhook_error = None
        async with self.world.changed:
            self.world.changed.notify_all()
        return True

    async def deleteWebhook(self, p: Params) -> Any:
        if p.flag("drop_pending_updates"):
            await self._drop_pending()
        self.world.webhook = {}
        return True

    async def _drop_pending(self) -> None:
        if self.world.updates:
            await self.world.confirm(self.world.updates[-1]["update_id"])

    async def getWebhookInfo(self, p: Params) -> Any:
        world = self.world
        info: dict[str, Any] = {
            "url": world.webhook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(world.updates),
        }
        if world.webhook.get("url"):
            info["max_connections"] = 40
            if world.allowed_updates:
                info["allowed_updates"] = world.allowed_updates
        if world.webhook_error:
            info["last_error_date"], info["last_error_message"] = world.webhook_error
        return info

    # --- messages -----------------------------------------------------------------------------
    async def sendMessage(self, p: Params) -> Any:
        chat = self.world.recipient(p.chat_id())
        html = p.text("text", "") or ""
        text = rendered(html, p.text("parse_mode"), MAX_TEXT, "message text is empty")
        markup = p.obj("reply_markup")
        check_reply_markup(markup)
        thread = self.world.thread(chat.id, p.integer("message_thread_id"))
        message = self.world.add_message(
            chat.id, True, text=text, html=html, reply_markup=markup, thread_id=thread
        )
        return self.world.message_json(message)

    async def editMessageText(self, p: Params) -> Any:
        message = self._own_message(p, "message to edit not found")
        if message.text is None:
            raise bad_request("there is no text in the message to edit")
        html = p.text("text", "") or ""
        text = rendered(html, p.text("parse_mode"), MAX_TEXT, "message text is empty")
        markup = p.obj("reply_markup")
        check_reply_markup(markup)
        if html == message.html and markup == message.reply_markup:
            raise bad_request(NOT_MODIFIED)
        message.text, message.html, message.reply_markup, message.edited = text, html, markup, True
        return self.world.message_json(message)

    async def editMessageReplyMarkup(self, p: Params) -> Any:
        message = self._own_message(p, "message to edit not found")
        markup = p.obj("reply_markup")
        check_reply_markup(markup)
        if markup == message.reply_markup:
            raise bad_request(NOT_MODIFIED)
        message.reply_markup, message.edited = markup, True
        return self.world.message_json(message)

    def _own_message(self, p: Params, missing: str) -> Any:
        if "inline_message_id" in p:
            raise bad_request("MESSAGE_ID_INVALID")
        message = self.world.find_message(p.chat_id(), p.integer("message_id"), missing)
        if not message.from_bot:
            raise bad_request("message can't be edited")
        return message

    async def deleteMessage(self, p: Params) -> Any:
        message = self.world.find_message(p.chat_id(), p.integer("message_id"), "message to delete not found")
        message.deleted = True
        return True

    async def answerCallbackQuery(self, p: Params) -> Any:
        query_id = p.text("callback_query_id", "") or ""
        known = self.world.callbacks.get(query_id)
        if known is None or known[1] is not None:
            raise bad_request(QUERY_TOO_OLD)
        text = p.text("text")
        if text is not None and len(text) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        self.world.callbacks[query_id] = (known[0], CallbackAnswer(text, p.flag("show_alert"), p.text("url")))
        return True

    async def sendPhoto(self, p: Params) -> Any:
        chat = self.world.recipient(p.chat_id())
        photo = p.file("photo")
        if photo is None:
            raise bad_request("there is no photo in the request")
        if isinstance(photo, str):
            if photo not in self.world.files:
                raise bad_request("wrong file identifier/HTTP URL specified")
            photo = self.world.files[photo]
        try:
            with Image.open(io.BytesIO(photo)) as image:
                width, height = image.size
        except (UnidentifiedImageError, OSError):
            raise bad_request("IMAGE_PROCESS_FAILED") from None
        file_id = self.world.next_id("photo-")
        self.world.files[file_id] = photo
        size = {"file_id": file_id, "file_unique_id": file_id, "width": width, "height": height}
        caption_html = p.text("caption")
        caption = None
        if caption_html:
            caption = rendered(caption_html, p.text("parse_mode"), MAX_CAPTION, "message caption is empty")
        markup = p.obj("reply_markup")
        check_reply_markup(markup)
        message = self.world.add_message(
            chat.id,
            True,
            thread_id=self.world.thread(chat.id, p.integer("message_thread_id")),
            photo=photo,
            caption=caption,
            html=caption_html,
            reply_markup=markup,
            extra={"photo_sizes": [size | {"file_size": len(photo)}]},
        )
        return self.world.message_json(message)

    async def copyMessage(self, p: Params) -> Any:
        chat = self.world.recipient(p.chat_id())
        source = self.world.find_message(
            p.chat_id("from_chat_id"), p.integer("message_id"), "message to copy not found"
        )
        if source.invoice is not None or source.extra.keys() & UNCOPYABLE:
            raise bad_request("message can't be copied")
        caption_html = p.text("caption")
        caption = source.caption
        if caption_html is not None:
            caption = rendered(caption_html, p.text("parse_mode"), MAX_CAPTION, "message caption is empty")
        markup = p.obj("reply_markup")
        check_reply_markup(markup)
        thread = self.world.thread(chat.id, p.integer("message_thread_id"))
        copy = self.world.add_message(
            chat.id,
            True,
            thread_id=thread,
            text=source.text,
            html=source.html if source.text is not None else caption_html,
            caption=caption if source.media_kind not in (None, "sticker") else None,
            photo=source.photo,
            reply_markup=markup,
            extra={key: value for key, value in source.extra.items() if key in MEDIA_KEYS},
        )
        return {"message_id": copy.message_id}

    async def sendChatAction(self, p: Params) -> Any:
        self.world.recipient(p.chat_id())
        if p.text("action") not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        return True

    # --- Stars payments -----------------------------------------------------------------------
    def _invoice(self, p: Params) -> Invoice:
        title, description = p.text("title", "") or "", p.text("description", "") or ""
        payload = p.text("payload", "") or ""
        currency = p.text("currency", "") or ""
        prices = p.obj("prices") or []
        if not 1 <= len(title) <= 32:
            raise bad_request("INVOICE_TITLE_INVALID" if title else "title is empty")
        if not 1 <= len(description) <= 255:
            raise bad_request("INVOICE_DESCRIPTION_INVALID" if description else "description is empty")
        if not 1 <= len(payload.encode("utf-8")) <= 128:
            raise bad_request("INVOICE_PAYLOAD_INVALID")
        if currency != "XTR":
            # The sandbox knows no payment providers: only Stars invoices can be paid here.
            raise bad_request("PAYMENT_PROVIDER_INVALID")
        if p.text("provider_token"):
            raise bad_request("PAYMENT_PROVIDER_INVALID")
        if len(prices) != 1:
            raise bad_request("STARS_INVOICE_INVALID")
        amount = int(prices[0].get("amount", 0))
        if not 1 <= amount <= MAX_STARS:
            raise bad_request("CURRENCY_TOTAL_AMOUNT_INVALID")
        return Invoice(title, description, payload, currency, amount)

    async def sendInvoice(self, p: Params) -> Any:
        chat = self.world.recipient(p.chat_id())
        invoice = self._invoice(p)
        markup = p.obj("reply_markup")
        check_reply_markup(markup)
        if markup and "pay" not in markup["inline_keyboard"][0][0]:
            raise bad_request("REPLY_MARKUP_BUY_EMPTY")
        message = self.world.add_message(chat.id, True, invoice=invoice, reply_markup=markup)
        return self.world.message_json(message)

    async def createInvoiceLink(self, p: Params) -> Any:
        invoice = self._invoice(p)
        period = p.integer("subscription_period")
        if period is not None and period != STARS_SUBSCRIPTION_PERIOD:
            raise bad_request("SUBSCRIPTION_PERIOD_INVALID")
        invoice.link = f"https://t.me/${self.world.next_id('invoice')}"
        self.world.invoice_links[invoice.link] = invoice
        return invoice.link

    async def answerPreCheckoutQuery(self, p: Params) -> Any:
        query = self.world.pre_checkouts.get(p.text("pre_checkout_query_id", "") or "")
        if query is None or query.answered:
            raise bad_request("QUERY_ID_INVALID")
        elapsed = time.monotonic() - query.created
        if elapsed > self.world.pre_checkout_timeout:
            raise bad_request(QUERY_TOO_OLD)
        ok = p.flag("ok")
        error = p.text("error_message")
        if not ok and not error:
            raise bad_request("error_message is empty")
        query.answered, query.ok, query.error_message, query.answered_after = True, ok, error, elapsed
        return True

    async def refundStarPayment(self, p: Params) -> Any:
        charge = self.world.charges.get(p.text("telegram_payment_charge_id", "") or "")
        if charge is None:
            raise bad_request("CHARGE_NOT_FOUND")
        if charge.user_id != p.integer("user_id"):
            raise bad_request("USER_ID_INVALID")
        if charge.refunded:
            raise bad_request("CHARGE_ALREADY_REFUNDED")
        charge.refunded = True
        self.world.record_star_transaction(charge, refund=True)
        await self.inject_refund(charge)
        return True

    async def getStarTransactions(self, p: Params) -> Any:
        # Chronological; limit is clamped to 1..100 and 0 means the default 100, as for getUpdates.
        offset = max(p.integer("offset", 0) or 0, 0)
        limit = min(max(p.integer("limit", 100) or 100, 1), 100)
        return {"transactions": self.world.star_transactions[offset : offset + limit]}

    async def inject_refund(self, charge: Charge) -> int:
        refunded = {
            "currency": charge.currency,
            "total_amount": charge.total_amount,
            "invoice_payload": charge.payload,
            "telegram_payment_charge_id": charge.id,
        }
        message = self.world.add_message(charge.user_id, False, extra={"refunded_payment": refunded})
        return await self.world.enqueue("message", self.world.message_json(message))

    # --- channels and commands ----------------------------------------------------------------
    async def setMyCommands(self, p: Params) -> Any:
        commands = p.obj("commands") or []
        if len(commands) > 100:
            raise bad_request("BOT_COMMANDS_TOO_MUCH")
        for command in commands:
            if not COMMAND.match(command.get("command", "")):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(command.get("description", "")) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        self.world.commands[self._commands_key(p)] = commands
        return True

    async def getMyCommands(self, p: Params) -> Any:
        return self.world.commands.get(self._commands_key(p), [])

    async def deleteMyCommands(self, p: Params) -> Any:
        self.world.commands.pop(self._commands_key(p), None)
        return True

    def _commands_key(self, p: Params) -> tuple[str, str]:
        scope = p.obj("scope") or {"type": "default"}
        return (scope.get("type", "default"), p.text("language_code", "") or "")
