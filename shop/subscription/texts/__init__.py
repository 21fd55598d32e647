"""Texts of the subscription page and placeholder entries: one catalogue per language."""

from __future__ import annotations

from shop.subscription.texts import en, ru

CATALOGUES: dict[str, dict[str, str]] = {"ru": ru.TEXTS, "en": en.TEXTS}
DEFAULT_LANGUAGE = "ru"


def t(language: str, key: str, **values: object) -> str:
    catalogue = CATALOGUES.get(language, CATALOGUES[DEFAULT_LANGUAGE])
    return catalogue[key].format(**values)


def pick_language(accept_language: str, fallback: str) -> str:
    """The best of our catalogues for an `Accept-Language` header; the subscriber's language if none fits."""
    best, best_q = "", 0.0
    for part in accept_language.split(","):
        tag, _, params = part.strip().partition(";")
        code = tag.strip().lower()[:2]
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                continue
        if code in CATALOGUES and q > best_q:
            best, best_q = code, q
    if best:
        return best
    return fallback if fallback in CATALOGUES else DEFAULT_LANGUAGE
