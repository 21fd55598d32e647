"""Share-link bodies: the plain list and its standard base64 (v2rayN style, `subscription-clients.md` §1)."""

from __future__ import annotations

import base64
from collections.abc import Sequence

from shop.subscription.content import Entry


def plain(entries: Sequence[Entry]) -> str:
    # Trailing newline, as 3x-ui writes it: strict parsers split on "\n" and expect it.
    return "".join(f"{entry.link}\n" for entry in entries)


def base64_links(entries: Sequence[Entry]) -> str:
    return base64.b64encode(plain(entries).encode()).decode("ascii")
