"""Customers as the bot sees them: who they are, what access they have, and their own settings."""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update

from shop.customers import accounts
from shop.db import SessionFactory, engine_of
from shop.models import Host, PanelClient, Subscription, User, utcnow
from shop.settings import Settings

LANGUAGES = ("ru", "en")


class AccessState(enum.StrEnum):
    NONE = "none"  # never had access
    TRIAL = "trial"  # active, never paid (a trial or an operator's gift)
    ACTIVE = "active"  # active, paid at least once
    EXPIRED = "expired"


@dataclass(frozen=True)
class Customer:
    id: int
    username: str | None
    full_name: str
    language: str
    banned: bool
    terms_accepted: bool
    trial_used: bool

    @property
    def mention(self) -> str:
        return f"@{self.username}" if self.username else self.full_name


@dataclass(frozen=True)
class Access:
    state: AccessState
    expires_at: datetime | None
    days_left: int
    token: str | None
    servers: int
    has_paid: bool
    ready_servers: int = 0  # hosts that hold the client and serve its link now
    upload: int = 0  # bytes, summed over every host at the last reconciliation
    download: int = 0

    @property
    def preparing(self) -> bool:
        """Some servers are still being set up (a host was down when access was granted)."""
        return self.active and self.ready_servers < self.servers

    @property
    def active(self) -> bool:
        return self.state in (AccessState.TRIAL, AccessState.ACTIVE)


def _customer(user: User) -> Customer:
    return Customer(
        user.id,
        user.username,
        user.full_name,
        user.language,
        user.banned,
        user.terms_accepted_at is not None,
        user.trial_used,
    )


async def register(
    sessions: SessionFactory,
    telegram_id: int,
    username: str | None,
    full_name: str,
    language: str,
    referrer_id: int | None = None,
) -> tuple[Customer, bool]:
    """First visit creates the customer (with the referrer, if valid); later visits refresh the names."""
    registration = await accounts.register_user(
        sessions, telegram_id, username, full_name, language=language, referrer_id=referrer_id
    )
    return _customer(registration.user), registration.created


async def get_customer(sessions: SessionFactory, telegram_id: int) -> Customer | None:
    async with sessions() as session:
        user = await session.get(User, telegram_id)
        return _customer(user) if user else None


async def operator_languages(sessions: SessionFactory, settings: Settings) -> dict[int, str]:
    """Each operator (ADMIN_IDS) with the language they use the bot in (Russian until they chose)."""
    async with sessions() as session:
        rows = await session.execute(select(User.id, User.language).where(User.id.in_(settings.admin_ids)))
    known = {user_id: language for user_id, language in rows}
    return {admin_id: known.get(admin_id, LANGUAGES[0]) for admin_id in settings.admin_ids}


async def mark_bot_blocked(sessions: SessionFactory, telegram_id: int, now: datetime) -> None:
    """Telegram said the user blocked the bot: reminders and broadcasts leave them out until they
    talk to it again (registration clears the mark)."""
    async with sessions() as session, session.begin():
        await session.execute(update(User).where(User.id == telegram_id).values(bot_blocked_at=now))


async def referrer_of(sessions: SessionFactory, telegram_id: int) -> int | None:
    async with sessions() as session:
        return await session.scalar(select(User.referrer_id).where(User.id == telegram_id))


async def accept_terms(sessions: SessionFactory, telegram_id: int) -> None:
    async with sessions() as session, session.begin():
        await session.execute(
            update(User)
            .where(User.id == telegram_id, User.terms_accepted_at.is_(None))
            .values(terms_accepted_at=utcnow())
        )


async def set_language(sessions: SessionFactory, telegram_id: int, language: str) -> None:
    if language not in LANGUAGES:
        raise ValueError(f"unsupported language {language!r}")
    async with sessions() as session, session.begin():
        await session.execute(update(User).where(User.id == telegram_id).values(language=language))


def days_left(expires_at: datetime | None, now: datetime) -> int:
    if expires_at is None or expires_at <= now:
        return 0
    return math.ceil((expires_at - now).total_seconds() / 86400)


def _access_query(telegram_id: int) -> Any:
    """The subscription, the enabled hosts and its clients on them, in one statement (a delivered
    payment's card reads it, so does the bot's menu)."""
    servers = select(func.count()).select_from(Host).where(Host.enabled).scalar_subquery()
    serving = Host.enabled & PanelClient.enabled_written & (PanelClient.link != "")
    return (
        select(
            servers,
            Subscription.expires_at,
            Subscription.token,
            Subscription.has_paid,
            func.count(Host.id).filter(serving),
            func.coalesce(func.sum(PanelClient.upload), 0),
            func.coalesce(func.sum(PanelClient.download), 0),
        )
        .select_from(Subscription)
        .outerjoin(PanelClient, PanelClient.subscription_id == Subscription.id)
        .outerjoin(Host, Host.id == PanelClient.host_id)
        .where(Subscription.user_id == telegram_id)
        .group_by(Subscription.id)
    )


async def access_of(sessions: SessionFactory, telegram_id: int, now: datetime | None = None) -> Access:
    now = now or utcnow()
    async with engine_of(sessions).connect() as connection:
        row: Any = (await connection.execute(_access_query(telegram_id))).first()
        if row is None:
            hosts = await connection.scalar(select(func.count()).select_from(Host).where(Host.enabled))
            return Access(AccessState.NONE, None, 0, None, hosts or 0, False)
    servers, expires_at, token, has_paid, ready, upload, download = row
    if expires_at is None:
        return Access(AccessState.NONE, None, 0, token, servers, False)
    if expires_at <= now:
        state = AccessState.EXPIRED
    else:
        state = AccessState.ACTIVE if has_paid else AccessState.TRIAL
    return Access(
        state,
        expires_at,
        days_left(expires_at, now),
        token,
        servers,
        has_paid,
        ready_servers=int(ready),
        upload=int(upload),  # summed over every host at the last reconciliation
        download=int(download),
    )


async def new_link(sessions: SessionFactory, telegram_id: int) -> str:
    """Rotates the customer's link token; the old link stops working at once."""
    subscription = await accounts.ensure_subscription(sessions, telegram_id)
    return await accounts.rotate_token(sessions, subscription.id)


async def token_exists(sessions: SessionFactory, token: str) -> bool:
    async with sessions() as session:
        return await session.scalar(select(Subscription.id).where(Subscription.token == token)) is not None
