"""Access that has ended but is still open on a panel: expired or banned, with a client last
written as enabled. The disable pass provisions these, which writes the absolute disabled state."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select

from shop.db import SessionFactory
from shop.models import PanelClient, Subscription, User


async def ended_but_enabled(sessions: SessionFactory, now: datetime, limit: int) -> list[int]:
    async with sessions() as session:
        rows = await session.scalars(
            select(Subscription.id)
            .join(User, User.id == Subscription.user_id)
            .where(
                or_(Subscription.expires_at <= now, User.banned),
                select(PanelClient.id)
                .where(PanelClient.subscription_id == Subscription.id, PanelClient.enabled_written)
                .exists(),
            )
            .order_by(Subscription.expires_at)
            .limit(limit)
        )
        return list(rows)
