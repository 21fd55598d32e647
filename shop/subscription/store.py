"""Reading a subscription for `/sub`: one indexed query by token, whether the token exists or not."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, bindparam, select
from sqlalchemy.ext.asyncio import AsyncEngine

from shop.models import Host, PanelClient, Subscription, User


@dataclass(frozen=True)
class CachedServer:
    name: str  # the shop's display name for the host: flag and name
    link: str  # the vless:// link provisioning cached for this subscription on this host


@dataclass(frozen=True)
class SubscriptionRecord:
    subscription_id: int
    token: str
    expires_at: datetime | None
    created_at: datetime
    banned: bool
    language: str
    servers: tuple[CachedServer, ...]  # in the shop's host order
    upload: int  # bytes, summed over the subscription's clients at the last panel sync
    download: int


# The token is matched by the database through its UNIQUE index; Python never compares it.
_BY_TOKEN = (
    select(
        Subscription.id,
        Subscription.expires_at,
        Subscription.created_at,
        User.banned,
        User.language,
        Host.name,
        Host.flag,
        PanelClient.link,
        PanelClient.upload,
        PanelClient.download,
    )
    .select_from(Subscription)
    .join(User, User.id == Subscription.user_id)
    .outerjoin(PanelClient, PanelClient.subscription_id == Subscription.id)
    .outerjoin(Host, and_(Host.id == PanelClient.host_id, Host.enabled.is_(True)))
    .where(Subscription.token == bindparam("token"))
    .order_by(Host.sort_order, Host.id)
)


async def find_by_token(engine: AsyncEngine, token: str) -> SubscriptionRecord | None:
    async with engine.connect() as connection:
        rows = (await connection.execute(_BY_TOKEN, {"token": token})).all()
    if not rows:
        return None
    first = rows[0]
    servers = tuple(
        CachedServer(f"{row.flag} {row.name}".strip(), row.link)
        for row in rows
        if row.name is not None and row.link
    )
    return SubscriptionRecord(
        subscription_id=first.id,
        token=token,
        expires_at=first.expires_at,
        created_at=first.created_at,
        banned=first.banned,
        language=first.language,
        servers=servers,
        upload=sum(row.upload or 0 for row in rows),
        download=sum(row.download or 0 for row in rows),
    )
