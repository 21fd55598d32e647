"""The text and the renew button of an expiry reminder, in the customer's language."""

from __future__ import annotations

from datetime import datetime

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callbacks import Nav, Renew, Screen
from bot.texts import t
from shop.messaging.reminders import Mark, parse_marks
from shop.models import Product


def _left(language: str, expires_at: datetime, now: datetime) -> str:
    hours = max(1, round((expires_at - now).total_seconds() / 3600))
    return t(language, "hours_left", n=hours) if hours < 48 else t(language, "days_left", n=round(hours / 24))


def reminder_text(
    language: str,
    mark_name: str,
    expires_at: datetime,
    has_paid: bool,
    now: datetime,
    product: Product = Product.VPN,
) -> str:
    mark: Mark = parse_marks(mark_name)[0]
    when = expires_at.strftime("%d.%m.%Y %H:%M UTC")
    key = f"reminder_{mark.kind}"
    if product is Product.PROXY:
        key = f"reminder_proxy_{mark.kind}"
    elif mark.kind != "winback" and not has_paid:
        key += "_trial"
    return t(language, key, when=when, left=_left(language, expires_at, now))


def renew_keyboard(language: str, product: Product = Product.VPN) -> InlineKeyboardMarkup:
    # The proxy's renewal is its own screen (its plans); the VPN's, the plans as a new message.
    data = Nav(to=Screen.PROXY).pack() if product is Product.PROXY else Renew().pack()
    button = InlineKeyboardButton(text=t(language, "button_renew"), callback_data=data)
    return InlineKeyboardMarkup(inline_keyboard=[[button]])
