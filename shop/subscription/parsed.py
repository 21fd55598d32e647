"""Entries parsed for the structured formats; a cached link that does not parse is left out, loudly."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from shop.subscription.content import Entry
from shop.subscription.vless import InvalidLink, VlessLink, parse_vless

log = logging.getLogger("vpnshop.sub")


def parsed_entries(entries: Sequence[Entry]) -> list[tuple[str, VlessLink]]:
    parsed = []
    for entry in entries:
        try:
            parsed.append((entry.name, parse_vless(entry.link)))
        except InvalidLink as error:
            log.warning("cached link for %r skipped: %s", entry.name, error)
    return parsed
