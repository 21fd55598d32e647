"""The access card: what a customer gets after a trial or a payment (link, copy button, QR, how-to).
The bot sends it with `send_access`; after a payment the worker sends `access_card_messages`, one
paced activity per message (`bot_call` turns one into its Bot API call)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from html import escape

from aiogram import Bot
from aiogram.types import BufferedInputFile, InlineKeyboardMarkup

from bot.keyboards import proxy as proxy_keyboards
from bot.keyboards import subscription as keyboards
from bot.texts import date, t
from bot.ui import qr_png
from shop.customers.users import Access, AccessState
from shop.messaging.telegram_send import BotMessage
from shop.proxy.access import ProxyAccess
from shop.settings import Settings


def access_status(lang: str, access: Access) -> str:
    """One line: active or trial until when, expired since when, or none."""
    return {
        AccessState.ACTIVE: t(lang, "status_active", date=date(access.expires_at), days=access.days_left),
        AccessState.TRIAL: t(lang, "status_trial", date=date(access.expires_at), days=access.days_left),
        AccessState.EXPIRED: t(lang, "status_expired", date=date(access.expires_at)),
        AccessState.NONE: t(lang, "status_none"),
    }[access.state]


def subscription_link(settings: Settings, token: str) -> str:
    return f"{settings.base_url}/sub/{token}"


def servers_text(lang: str, access: Access) -> str:
    """How many servers; while some are still being set up, how many are ready."""
    if access.preparing:
        return t(lang, "servers_preparing", ready=access.ready_servers, servers=access.servers)
    return str(access.servers)


def access_text(lang: str, access: Access, link: str, heading_key: str) -> str:
    return t(
        lang,
        "access_card",
        heading=t(lang, heading_key),
        date=date(access.expires_at),
        servers=servers_text(lang, access),
        link=escape(link),
    )


async def send_qr(bot: Bot, chat_id: int, lang: str, link: str) -> None:
    await send_qr_photo(bot, chat_id, link, t(lang, "qr_caption"))


async def send_qr_photo(
    bot: Bot, chat_id: int, link: str, caption: str, reply_markup: InlineKeyboardMarkup | None = None
) -> None:
    photo = BufferedInputFile(qr_png(link), filename="subscription-qr.png")
    await bot.send_photo(chat_id, photo, caption=caption, reply_markup=reply_markup)


def bot_call(bot: Bot, message: BotMessage) -> Callable[[], Awaitable[object]]:
    """The one Bot API call that sends `message`."""
    markup = InlineKeyboardMarkup.model_validate(message.markup) if message.markup else None
    if message.qr_link is not None:
        return lambda: send_qr_photo(bot, message.chat_id, message.qr_link or "", message.text, markup)
    return lambda: bot.send_message(message.chat_id, message.text, reply_markup=markup)


# Telegram's limit for a photo's caption (characters after entity parsing; the HTML is longer).
CAPTION_LIMIT = 1024


def access_card_messages(
    chat_id: int, lang: str, access: Access, settings: Settings, heading_key: str = "heading_paid"
) -> list[BotMessage]:
    """The card's messages, in order: one, the QR code with the card as its caption and the card's
    buttons. Each message counts against the bot's pace, so a burst of payments delivers as many
    cards a second as messages allowed. A card text too long for a caption (an owner's long
    heading) goes as the text, then the QR code.
    heading_key: heading_paid (after a payment), heading_trial, heading_link."""
    if access.token is None:
        raise ValueError("the customer has no subscription link yet")
    link = subscription_link(settings, access.token)
    text = access_text(lang, access, link, heading_key)
    markup = keyboards.access_card(lang, link).model_dump(mode="json", exclude_none=True)
    if len(text) <= CAPTION_LIMIT:
        return [BotMessage(chat_id=chat_id, text=text, markup=markup, qr_link=link, what="access card")]
    return [
        BotMessage(chat_id=chat_id, text=text, markup=markup, what="access card"),
        BotMessage(chat_id=chat_id, text=t(lang, "qr_caption"), qr_link=link, what="access card QR"),
    ]


def access_card(
    bot: Bot, chat_id: int, lang: str, access: Access, settings: Settings, heading_key: str = "heading_paid"
) -> list[Callable[[], Awaitable[object]]]:
    """The card's Bot API calls, in order (the support desk paces each one on its own)."""
    messages = access_card_messages(chat_id, lang, access, settings, heading_key)
    return [bot_call(bot, message) for message in messages]


async def send_access(
    bot: Bot, chat_id: int, lang: str, access: Access, settings: Settings, heading_key: str = "heading_paid"
) -> None:
    for call in access_card(bot, chat_id, lang, access, settings, heading_key):
        await call()


def proxy_redirect(settings: Settings, token: str) -> str:
    """The https address of the customer's `tg://proxy` link (Telegram buttons open only http(s))."""
    return f"{settings.base_url}/proxy/{token}"


def proxy_card(
    lang: str, proxy: ProxyAccess, settings: Settings, heading_key: str = "heading_proxy_paid"
) -> tuple[str, InlineKeyboardMarkup]:
    """The proxy's card: its link with Connect and Copy, or "being set up" while it has none yet."""
    if not proxy.link or proxy.token is None:
        return t(lang, "proxy_status_preparing"), proxy_keyboards.preparing(lang)
    text = t(
        lang,
        "proxy_card",
        heading=t(lang, heading_key),
        date=date(proxy.expires_at),
        link=escape(proxy.link),
    )
    return text, proxy_keyboards.card(lang, proxy.link, proxy_redirect(settings, proxy.token))


def proxy_card_message(
    chat_id: int, lang: str, proxy: ProxyAccess, settings: Settings, heading_key: str = "heading_proxy_paid"
) -> BotMessage:
    """The proxy's card as one message for the bot's paced queue."""
    text, markup = proxy_card(lang, proxy, settings, heading_key)
    markup_json = markup.model_dump(mode="json", exclude_none=True)
    return BotMessage(chat_id=chat_id, text=text, markup=markup_json, what="proxy card")
