"""Sales for the operators' digest: the payments delivered in a window of time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select

from shop.db import SessionFactory
from shop.models import Payment, PaymentMethod


@dataclass(frozen=True)
class Sale:
    payment_id: str
    user_id: int
    method: PaymentMethod
    amount: Decimal
    currency: str
    delivered_at: datetime


async def sales_between(sessions: SessionFactory, since: datetime, until: datetime) -> list[Sale]:
    """Payments delivered in [since, until), oldest first; a payment refunded later still counts:
    the digest reports what was sold, and refunds have notices of their own."""
    async with sessions() as session:
        rows = await session.execute(
            select(
                Payment.id,
                Payment.user_id,
                Payment.method,
                Payment.amount,
                Payment.currency,
                Payment.delivered_at,
            )
            .where(Payment.delivered_at >= since, Payment.delivered_at < until)
            .order_by(Payment.delivered_at, Payment.id)
        )
        return [
            Sale(pid, user, method, amount, currency, at)
            for pid, user, method, amount, currency, at in rows
            if at
        ]


def totals(sales: list[Sale]) -> dict[str, Decimal]:
    """Sum per currency, in the order the currencies first appear."""
    summed: dict[str, Decimal] = {}
    for sale in sales:
        summed[sale.currency] = summed.get(sale.currency, Decimal(0)) + sale.amount
    return summed
