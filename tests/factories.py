"""Small builders for test data, going through the same domain services the shop uses."""

from __future__ import annotations

from decimal import Decimal

from shop.customers.accounts import ensure_subscription, register_user
from shop.db import SessionFactory
from shop.models import Host, Payment, PaymentMethod, PaymentStatus, Plan, Subscription, utcnow
from shop.payments.service import new_payment_id, record_payment
from shop.payments.status import transition
from shop.storefront.fields import OwnerSettings


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


async def delivered_payment(
    sessions: SessionFactory,
    owner: OwnerSettings,
    user_id: int,
    method: PaymentMethod = PaymentMethod.YOOKASSA,
    price: str = "199.00",
) -> Payment:
    """A payment minted as the bot mints it (discount included), then delivered; no workflow."""
    offer = await plan(sessions, price=price, stars=150)
    payment = await record_payment(sessions, owner, new_payment_id(), user_id, offer.id, method)
    await transition(sessions, payment.id, PaymentStatus.SUCCEEDED, paid_at=utcnow())
    await transition(sessions, payment.id, PaymentStatus.DELIVERED, delivered_at=utcnow())
    return payment
