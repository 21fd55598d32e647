"""The bot's catalogues: every key in every language, with the same placeholders."""

from __future__ import annotations

from string import Formatter

from bot.texts import CATALOGUES, DEFAULT_LANGUAGE


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in Formatter().parse(text) if name}


def test_every_catalogue_has_the_same_keys_and_placeholders() -> None:
    reference = CATALOGUES[DEFAULT_LANGUAGE]
    for language, catalogue in CATALOGUES.items():
        assert set(catalogue) == set(reference), f"{language}: {set(catalogue) ^ set(reference)}"
        for key, text in catalogue.items():
            assert placeholders(text) == placeholders(reference[key]), f"{language}.{key}"
