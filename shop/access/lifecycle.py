"""Access out of line on a panel: ended (expired or banned) with a client last written as enabled,
or active again (unbanned) with one last written as disabled. The close-ended-access pass
provisions these, which writes the absolute state the database implies either way; it is how a ban
or unban saved while Temporal was unreachable reaches the panels."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select

from shop.db import SessionFactory
from shop.models import Host, PanelClient, Subscription, User


async def access_out_of_line(sessions: SessionFactory, now: datetime, limit: int) -> list[int]:
    def written(enabled: bool) -> Any:
        # Only enabled hosts: provisioning skips the others, so their rows would be found forever.
        return (
            select(PanelClient.id)
            .join(Host, Host.id == PanelClient.host_id)
            .where(
                PanelClient.subscription_id == Subscription.id,
                PanelClient.enabled_written.is_(enabled),
                Host.enabled,
            )
            .exists()
        )

    ended = or_(Subscription.expires_at <= now, User.banned)
    active = and_(Subscription.expires_at > now, ~User.banned)
    async with sessions() as session:
        rows = await session.scalars(
            select(Subscription.id)
            .join(User, User.id == Subscription.user_id)
            .where(or_(and_(ended, written(True)), and_(active, written(False))))
            .order_by(Subscription.expires_at)
            .limit(limit)
        )
        return list(rows)
