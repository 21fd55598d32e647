"""What a subscription shows right now: its status, and its servers or one placeholder entry.

An app that gets an empty body shows nothing useful ("No hosts found"); an inactive subscription
instead gets a single entry whose name tells the customer what to do.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from shop.subscription.store import CachedServer, SubscriptionRecord
from shop.subscription.texts import t
from shop.subscription.vless import with_remark

# Harmless by construction: the nil UUID on loopback port 1 carries no traffic anywhere.
PLACEHOLDER_LINK = (
    "vless://00000000-0000-0000-0000-000000000000@127.0.0.1:1?encryption=none&security=none&type=tcp"
)


class Status(enum.StrEnum):
    ACTIVE = "active"
    PENDING = "pending"  # paid up, but provisioning has cached no link yet
    EXPIRED = "expired"
    INACTIVE = "inactive"  # never had access
    BANNED = "banned"

    @property
    def serves_servers(self) -> bool:
        return self is Status.ACTIVE


def status_of(record: SubscriptionRecord, now: datetime) -> Status:
    if record.banned:
        return Status.BANNED
    if record.expires_at is None:
        return Status.INACTIVE
    if record.expires_at <= now:
        return Status.EXPIRED
    return Status.ACTIVE if record.servers else Status.PENDING


def reported_expiry(record: SubscriptionRecord, status: Status, now: datetime) -> datetime:
    """The expiry apps display: always a real moment, in the past for anything not active."""
    if status is Status.INACTIVE or record.expires_at is None:
        return record.created_at
    if status is Status.BANNED:
        return min(record.expires_at, now)
    return record.expires_at


@dataclass(frozen=True)
class Entry:
    name: str
    link: str  # the cached link, its fragment set to `name`


def entries(record: SubscriptionRecord, status: Status, renew_hint: str) -> list[Entry]:
    if status.serves_servers:
        return [_entry(server) for server in _unique_names(record.servers)]
    name = t(record.language, f"placeholder_{status.value}", renew=renew_hint)
    return [Entry(name, with_remark(PLACEHOLDER_LINK, name))]


def _entry(server: CachedServer) -> Entry:
    return Entry(server.name, with_remark(server.link, server.name))


def _unique_names(servers: tuple[CachedServer, ...]) -> list[CachedServer]:
    # Clash proxy names and sing-box tags must be unique; two hosts may share a display name.
    seen: dict[str, int] = {}
    unique = []
    for server in servers:
        count = seen.get(server.name, 0) + 1
        seen[server.name] = count
        unique.append(server if count == 1 else CachedServer(f"{server.name} {count}", server.link))
    return unique
