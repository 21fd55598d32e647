"""Texts a customer reads: one catalogue per language, looked up by key."""

from __future__ import annotations

from bot.texts import en, ru

CATALOGUES: dict[str, dict[str, str]] = {"ru": ru.TEXTS, "en": en.TEXTS}
DEFAULT_LANGUAGE = "ru"


def language_for(telegram_language: str | None) -> str:
    """Russian by default; English for users whose Telegram speaks English."""
    return "en" if (telegram_language or "").lower().startswith("en") else DEFAULT_LANGUAGE


def t(language: str, key: str, **values: object) -> str:
    catalogue = CATALOGUES.get(language, CATALOGUES[DEFAULT_LANGUAGE])
    return catalogue[key].format(**values)
