"""A customer's proxy as the bot shows it: state, expiry, the cached `tg://proxy` link; its copy on
the MTG panel as the console shows it; and the lookup behind the API's https redirect (Telegram
buttons open only http(s) links)."""

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


@dataclass(frozen=True)
class ProxyCopy:
    """The customer's proxy on its MTG panel: where it is and what the shop last wrote there."""

    host: str
    host_enabled: bool
    node: str  # "" until a node holds it
    expiry_written: datetime | None
    enabled_written: bool
    needs_reconcile: bool
    last_sync_at: datetime | None
    in_line: bool  # what the shop last wrote equals what `wanted` says now


async def proxy_copy(sessions: SessionFactory, user_id: int, wanted: ProxyAccess) -> ProxyCopy | None:
    """None while no panel holds a proxy for the customer."""
    async with sessions() as session:
        row = (
            await session.execute(
                select(ProxyClient, MtgHost.name, MtgHost.enabled)
                .join(Subscription, Subscription.id == ProxyClient.subscription_id)
                .join(MtgHost, MtgHost.id == ProxyClient.host_id)
                .where(Subscription.user_id == user_id)
            )
        ).first()
    if row is None:
        return None
    client, host, host_enabled = row
    in_line = (
        not client.needs_reconcile
        and client.expiry_written == wanted.expires_at
        and client.enabled_written == wanted.active
    )
    return ProxyCopy(
        host, host_enabled, client.node, client.expiry_written, client.enabled_written,
        client.needs_reconcile, client.last_sync_at, in_line,
    )  # fmt: skip


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
