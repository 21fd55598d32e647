"""The console's texts: one catalogue per language, looked up by key."""

from __future__ import annotations

from console.texts import desk_en, desk_ru, en, ru

CATALOGUES: dict[str, dict[str, str]] = {
    "ru": {**ru.TEXTS, **desk_ru.TEXTS},
    "en": {**en.TEXTS, **desk_en.TEXTS},
}
DEFAULT_LANGUAGE = "ru"


def language(value: str | None) -> str:
    return value if value in CATALOGUES else DEFAULT_LANGUAGE


def t(lang: str, key: str, **values: object) -> str:
    return CATALOGUES[language(lang)][key].format(**values)
