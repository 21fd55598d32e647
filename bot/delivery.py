"""The access card: what a customer gets after a trial or a payment (link, copy button, QR, how-to).
The bot sends it with `send_access`; the worker paces the calls of `access_card` after a payment."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from html import escape

from aiogram import Bot
from aiogram.types import BufferedInputFile

from bot.keyboards import subscription as keyboards
from bot.texts import date, t
from bot.ui import qr_png
from shop.customers.users import Access, AccessState
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
    photo = BufferedInputFile(qr_png(link), filename="subscription-qr.png")
    await bot.send_photo(chat_id, photo, caption=t(lang, "qr_caption"))


# Telegram's limit for a photo's caption (characters after entity parsing; the HTML is longer).
CAPTION_LIMIT = 1024


def access_card(
    bot: Bot, chat_id: int, lang: str, access: Access, settings: Settings, heading_key: str = "heading_paid"
) -> list[Callable[[], Awaitable[object]]]:
    """The card's Bot API calls, in order (the worker paces each one on its own): one message, the
    QR code with the card as its caption and the card's buttons. Each message counts against the
    bot's pace, so a burst of payments delivers as many cards a second as messages allowed. A card
    text too long for a caption (an owner's long heading) goes as the text, then the QR code.
    heading_key: heading_paid (after a payment), heading_trial, heading_link."""
    if access.token is None:
        raise ValueError("the customer has no subscription link yet")
    link = subscription_link(settings, access.token)
    text = access_text(lang, access, link, heading_key)
    markup = keyboards.access_card(lang, link)
    if len(text) <= CAPTION_LIMIT:
        photo = BufferedInputFile(qr_png(link), filename="subscription-qr.png")
        return [lambda: bot.send_photo(chat_id, photo, caption=text, reply_markup=markup)]
    return [
        lambda: bot.send_message(chat_id, text, reply_markup=markup),
        lambda: send_qr(bot, chat_id, lang, link),
    ]


async def send_access(
    bot: Bot, chat_id: int, lang: str, access: Access, settings: Settings, heading_key: str = "heading_paid"
) -> None:
    for call in access_card(bot, chat_id, lang, access, settings, heading_key):
        await call()
