"""Webhook bodies as JSON objects, or None with nothing raised: invalid UTF-8 or JSON, nesting deeper
than any real notification, and strings that cannot be stored (lone surrogates) are all malformed."""

from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 32  # YooKassa, Crypto Pay and Telegram nest a handful of levels


def _storable(body: object) -> bool:
    """No nesting past MAX_DEPTH and no string that UTF-8 cannot encode (walked without recursion)."""
    pending: list[tuple[object, int]] = [(body, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, str):
            try:
                value.encode()
            except UnicodeEncodeError:
                return False
        elif isinstance(value, dict | list):
            if depth > MAX_DEPTH:
                return False
            items = [*value.keys(), *value.values()] if isinstance(value, dict) else value
            pending.extend((item, depth + 1) for item in items)
    return True


def parse_object(raw: bytes) -> dict[str, Any] | None:
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return None
    return body if isinstance(body, dict) and _storable(body) else None
