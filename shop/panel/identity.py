"""Deterministic panel identity: the same subscription gets the same UUID, email and subId on
every host and every retry, so provisioning is an upsert and never a second client.

UUID and subId are credentials (the UUID logs in to Xray, the subId opens the panel's own
subscription page), so they are keyed with a secret rather than guessable from the id.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import uuid
from dataclasses import dataclass

DEFAULT_PREFIX = "vpnshop"
PREFIX_RE = re.compile(r"^[a-z][a-z0-9]{0,15}$")


@dataclass(frozen=True)
class ClientIdentity:
    uuid: str
    email: str
    sub_id: str


def _mac(secret: bytes, label: str) -> bytes:
    return hmac.new(secret, label.encode(), hashlib.sha256).digest()


def client_email(subscription_id: int, inbound_id: int, prefix: str = DEFAULT_PREFIX) -> str:
    # One email per inbound: classic panels keep emails unique across all inbounds of a panel,
    # and two hosts may be two inbounds of one panel. Lowercase, because lookups are case-sensitive.
    return f"{prefix}-{subscription_id}-{inbound_id}"


def parse_email(email: str, prefix: str = DEFAULT_PREFIX) -> tuple[int, int] | None:
    """(subscription_id, inbound_id) for an email this shop minted, else None."""
    match = re.fullmatch(rf"{re.escape(prefix)}-(\d+)-(\d+)", email)
    return (int(match[1]), int(match[2])) if match else None


def client_identity(
    secret: bytes, subscription_id: int, inbound_id: int, prefix: str = DEFAULT_PREFIX
) -> ClientIdentity:
    raw = bytearray(_mac(secret, f"uuid:{subscription_id}")[:16])
    raw[6] = (raw[6] & 0x0F) | 0x40  # shaped as a version-4 UUID, which every Xray client accepts
    raw[8] = (raw[8] & 0x3F) | 0x80
    sub_id = base64.b32encode(_mac(secret, f"sub:{subscription_id}")[:10]).decode().lower()
    return ClientIdentity(
        uuid=str(uuid.UUID(bytes=bytes(raw))),
        email=client_email(subscription_id, inbound_id, prefix),
        sub_id=sub_id,
    )
