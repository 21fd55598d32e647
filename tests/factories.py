"""Small builders for test data, going through the same domain services the shop uses."""

from __future__ import annotations

from decimal import Decimal

from shop.accounts import ensure_subscription, register_user
from shop.db import SessionFactory
from shop.models import Host, Plan, Subscription


async def subscriber(sessions: SessionFactory, telegram_id: int = 1001, name: str = "Alice") -> Subscription:
    await register_user(sessions, telegram_id, name.lower(), name)
    return await ensure_subscription(sessions, telegram_id)


async def plan(
    sessions: SessionFactory,
    name: str = "Month",
    days: int = 30,
    price: str = "299.00",
    stars: int | None = 150,
) -> Plan:
    async with sessions() as session, session.begin():
        row = Plan(name=name, duration_days=days, price=Decimal(price), currency="RUB", price_stars=stars)
        session.add(row)
    return row


async def host(sessions: SessionFactory, name: str = "Frankfurt") -> None:
    async with sessions() as session, session.begin():
        session.add(Host(name=name, panel_url="https://panel.example/", inbound_id=1))
