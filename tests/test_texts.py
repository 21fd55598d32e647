"""The bot's and the console's catalogues: every key in every language, with the same placeholders."""

from __future__ import annotations

from string import Formatter

import pytest

from bot.texts import CATALOGUES, DEFAULT_LANGUAGE
from console import texts as console_texts


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in Formatter().parse(text) if name}


@pytest.mark.parametrize(
    "catalogues",
    [CATALOGUES, console_texts.CATALOGUES],
    ids=["bot", "console"],
)
def test_every_catalogue_has_the_same_keys_and_placeholders(catalogues: dict[str, dict[str, str]]) -> None:
    reference = catalogues[DEFAULT_LANGUAGE]
    for language, catalogue in catalogues.items():
        assert set(catalogue) == set(reference), f"{language}: {set(catalogue) ^ set(reference)}"
        for key, text in catalogue.items():
            assert placeholders(text) == placeholders(reference[key]), f"{language}.{key}"
