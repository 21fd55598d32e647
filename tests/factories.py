"""Small builders for test data, going through the same domain services the shop uses."""

from __future__ import annotations

from shop.accounts import ensure_subscription, register_user
from shop.db import SessionFactory
from shop.models import Subscription


async def subscriber(sessions: SessionFactory, telegram_id: int = 1001, name: str = "Alice") -> Subscription:
    await register_user(sessions, telegram_id, name.lower(), name)
    return await ensure_subscription(sessions, telegram_id)
