"""Small builders for test data, going through the same domain services the shop uses."""

from __future__ import annotations

from decimal import Decimal

from shop.accounts import ensure_subscription, register_user
from shop.db import SessionFactory
from shop.models import Plan, Subscription


async def subscriber(sessions: SessionFactory, telegram_id: int = 1001, name: str = "Alice") -> Subscription:
    await register_user(sessions, telegram_id, name.lower(), name)
    return await ensure_subscription(sessions, telegram_id)


async def plan(
    sessions: SessionFactory,
    price: str = "299.00",
    days: int = 30,
    stars: int | None = 150,
    name: str = "30 days",
) -> Plan:
    async with sessions() as session:
        row = Plan(name=name, duration_days=days, price=Decimal(price), currency="RUB", price_stars=stars)
        session.add(row)
        await session.commit()
        return row
