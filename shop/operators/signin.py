"""One-time sign-in links and console sessions, without passwords.

A link carries `<operator>.<expiry>.<nonce>.<signature>`: signed with a sub-key of ENCRYPTION_KEY,
valid 10 minutes, for that operator only. Redeeming it records the nonce (primary key), so a second
use is refused, and opens a 12-hour session whose cookie is signed the same way with another
sub-key. Each request checks the signature, the expiry, the operator's role in settings (leaving
ADMIN_IDS revokes) and that the session was not signed out.
"""

from __future__ import annotations

import base64
import enum
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from shop.crypto import Sealer
from shop.db import SessionFactory
from shop.models import ConsoleSignin, utcnow
from shop.operators.roles import Role, role_of
from shop.settings import Settings

LINK_LIFETIME = timedelta(minutes=10)
SESSION_LIFETIME = timedelta(hours=12)
LINK_PATH = "/console/signin/"
LINK_PURPOSE = "link"


class Refusal(enum.StrEnum):
    MALFORMED = "malformed"  # not ours, or tampered with
    EXPIRED = "expired"
    USED = "used"
    NOT_OPERATOR = "not_operator"
    SIGNED_OUT = "signed_out"


class SigninRefused(Exception):
    def __init__(self, reason: Refusal) -> None:
        super().__init__(reason.value)
        self.reason = reason


@dataclass(frozen=True)
class Operator:
    id: int
    role: Role
    session_id: str
    csrf_token: str


class Signer:
    """Signs and checks `<operator>.<expiry>.<nonce>` strings for one purpose."""

    def __init__(self, sealer: Sealer, purpose: str) -> None:
        self._key = sealer.derive(f"console:{purpose}")

    def _signature(self, payload: str) -> str:
        digest = hmac.new(self._key, payload.encode(), "sha256").digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def sign(self, operator_id: int, expires_at: datetime, nonce: str) -> str:
        payload = f"{operator_id}.{int(expires_at.timestamp())}.{nonce}"
        return f"{payload}.{self._signature(payload)}"

    def open(self, token: str, now: datetime) -> tuple[int, str]:
        parts = token.split(".")
        if len(parts) != 4 or not parts[0].isdigit() or not parts[1].isdigit():
            raise SigninRefused(Refusal.MALFORMED)
        payload = ".".join(parts[:3])
        if not hmac.compare_digest(parts[3], self._signature(payload)):
            raise SigninRefused(Refusal.MALFORMED)
        if int(parts[1]) <= now.timestamp():
            raise SigninRefused(Refusal.EXPIRED)
        return int(parts[0]), parts[2]


def signin_link(
    settings: Settings, operator_id: int, signer: Signer | None = None, now: datetime | None = None
) -> str:
    """A sign-in link for an operator; refuses anyone who is not one. Needs no database: the
    nonce is recorded when the link is used."""
    if role_of(settings, operator_id) is None:
        raise SigninRefused(Refusal.NOT_OPERATOR)
    signer = signer or Signer(Sealer.from_settings(settings), LINK_PURPOSE)
    expires_at = (now or utcnow()) + LINK_LIFETIME
    token = signer.sign(operator_id, expires_at, secrets.token_urlsafe(12))
    return f"{settings.base_url}{LINK_PATH}{token}"


class Signins:
    """Links, sessions and CSRF tokens. The keys are derived on first use: an API that nobody signs
    in to never needs ENCRYPTION_KEY (scaled setups without hosts may run without one)."""

    def __init__(self, settings: Settings, sessions: SessionFactory, sealer: Sealer | None = None) -> None:
        self.settings = settings
        self.sessions = sessions
        self._sealer = sealer

    @cached_property
    def _keys(self) -> tuple[Signer, Signer, bytes]:
        sealer = self._sealer or Sealer.from_settings(self.settings)
        return Signer(sealer, LINK_PURPOSE), Signer(sealer, "session"), sealer.derive("console:csrf")

    @property
    def _links(self) -> Signer:
        return self._keys[0]

    @property
    def _cookies(self) -> Signer:
        return self._keys[1]

    def link(self, operator_id: int, now: datetime | None = None) -> str:
        return signin_link(self.settings, operator_id, self._links, now)

    async def redeem(self, token: str, now: datetime | None = None) -> str:
        """The session cookie's value for a valid, unused link; the link is spent."""
        now = now or utcnow()
        operator_id, nonce = self._links.open(token, now)
        if role_of(self.settings, operator_id) is None:
            raise SigninRefused(Refusal.NOT_OPERATOR)
        expires_at = now + SESSION_LIFETIME
        try:
            async with self.sessions() as session, session.begin():
                session.add(
                    ConsoleSignin(nonce=nonce, operator_id=operator_id, session_expires_at=expires_at)
                )
        except IntegrityError:
            raise SigninRefused(Refusal.USED) from None
        return self._cookies.sign(operator_id, expires_at, nonce)

    async def operator(self, cookie: str, now: datetime | None = None) -> Operator:
        operator_id, nonce = self._cookies.open(cookie, now or utcnow())
        role = role_of(self.settings, operator_id)
        if role is None:
            raise SigninRefused(Refusal.NOT_OPERATOR)
        async with self.sessions() as session:
            row = await session.get(ConsoleSignin, nonce)
        if row is None or row.operator_id != operator_id or row.signed_out_at is not None:
            raise SigninRefused(Refusal.SIGNED_OUT)
        return Operator(operator_id, role, nonce, self.csrf_token(nonce))

    def csrf_token(self, session_id: str) -> str:
        digest = hmac.new(self._keys[2], session_id.encode(), "sha256").digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    async def sign_out(self, operator: Operator) -> None:
        async with self.sessions() as session, session.begin():
            await session.execute(
                update(ConsoleSignin)
                .where(ConsoleSignin.nonce == operator.session_id)
                .values(signed_out_at=utcnow())
            )
