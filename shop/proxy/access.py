"""A customer's proxy as the bot shows it: state, expiry, the cached `tg://proxy` link; and the
lookup behind the API's https redirect (Telegram buttons open only http(s) links)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from shop.db import SessionFactory
from shop.models import MtgHost, ProxyClient, Subscription, User, utcnow


@dataclass(frozen=True)
class ProxyAccess:
    active: bool
    expires_at: datetime | None  # None: never had a proxy
    days_left: int
    link: str  # "" while the proxy is still being set up
    token: str | None  # the subscription token, which names the redirect route

    @property
    def ever(self) -> bool:
        return self.expires_at is not None


async def proxy_access(sessions: SessionFactory, user_id: int, now: datetime | None = None) -> ProxyAccess:
    moment = now or utcnow()
    async with sessions() as session:
        row = (
            await session.execute(
                select(Subscription.proxy_expires_at, Subscription.token, User.banned, ProxyClient.link)
                .join(User, User.id == Subscription.user_id)
                .outerjoin(ProxyClient, ProxyClient.subscription_id == Subscription.id)
                .where(Subscription.user_id == user_id)
            )
        ).first()
    if row is None:
        return ProxyAccess(False, None, 0, "", None)
    expires, token, banned, link = row
    active = bool(expires and expires > moment and not banned)
    days = math.ceil((expires - moment).total_seconds() / 86400) if active and expires else 0
    return ProxyAccess(active, expires, days, link or "", token)


async def link_for_token(sessions: SessionFactory, token: str) -> str | None:
    """The proxy link behind a subscription token, while the proxy is active (else None)."""
    async with sessions() as session:
        row = (
            await session.execute(
                select(ProxyClient.link, Subscription.proxy_expires_at, User.banned)
                .join(Subscription, Subscription.id == ProxyClient.subscription_id)
                .join(User, User.id == Subscription.user_id)
                .where(Subscription.token == token)
            )
        ).first()
    if (
        row is None
        or not row.link
        or row.banned
        or not row.proxy_expires_at
        or row.proxy_expires_at <= utcnow()
    ):
        return None
    return str(row.link)


async def proxy_on_sale(sessions: SessionFactory) -> bool:
    """The bot offers the proxy while an MTG host is enabled."""
    async with sessions() as session:
        return await session.scalar(select(MtgHost.id).where(MtgHost.enabled).limit(1)) is not None
