"""Texts a customer reads: one catalogue per language, looked up by key; dates and prices formatted
the same way everywhere."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from bot.texts import en, ru

CATALOGUES: dict[str, dict[str, str]] = {"ru": ru.TEXTS, "en": en.TEXTS}
DEFAULT_LANGUAGE = "ru"
CURRENCY_SIGNS = {"RUB": "₽", "USD": "$", "EUR": "€", "XTR": "⭐"}


def language_for(telegram_language: str | None) -> str:
    """Russian by default; English for users whose Telegram speaks English."""
    return "en" if (telegram_language or "").lower().startswith("en") else DEFAULT_LANGUAGE


def t(language: str, key: str, **values: object) -> str:
    catalogue = CATALOGUES.get(language, CATALOGUES[DEFAULT_LANGUAGE])
    return catalogue[key].format(**values)


def date(value: datetime | None) -> str:
    return value.strftime("%d.%m.%Y %H:%M UTC") if value else "—"


def price(amount: Decimal | int, currency: str) -> str:
    value = Decimal(amount)
    shown = f"{value:.0f}" if value == value.to_integral_value() else f"{value:.2f}"
    return f"{shown} {CURRENCY_SIGNS.get(currency, currency)}"
