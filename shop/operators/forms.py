"""Refused operator input, field by field, so a form can show each reason beside its field."""

from __future__ import annotations


class Invalid(ValueError):
    """`fields` maps a form field to a reason code (e.g. {"price": "negative"}); nothing changed."""

    def __init__(self, fields: dict[str, str]) -> None:
        super().__init__(", ".join(f"{field}: {code}" for field, code in fields.items()))
        self.fields = fields
