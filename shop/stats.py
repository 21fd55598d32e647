"""The operator's numbers: customers, active subscriptions, revenue, payments waiting for review."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from shop.db import SessionFactory
from shop.models import Payment, PaymentMethod, PaymentStatus, Subscription, User, utcnow

PAID = (PaymentStatus.SUCCEEDED, PaymentStatus.DELIVERED)


@dataclass(frozen=True)
class ShopStats:
    users: int
    banned: int
    active_subscriptions: int
    revenue_today: dict[str, Decimal]  # by currency, since 00:00 UTC
    revenue_30_days: dict[str, Decimal]
    waiting_review: int


@dataclass(frozen=True)
class ReviewItem:
    payment_id: str
    user_id: int
    method: PaymentMethod
    amount: Decimal
    currency: str
    created_at: datetime
    reason: str | None


async def _revenue(sessions: SessionFactory, since: datetime) -> dict[str, Decimal]:
    async with sessions() as session:
        rows = await session.execute(
            select(Payment.currency, func.sum(Payment.amount))
            .where(Payment.status.in_(PAID), Payment.paid_at >= since)
            .group_by(Payment.currency)
            .order_by(Payment.currency)
        )
        return {currency: Decimal(total) for currency, total in rows.all()}


async def shop_stats(sessions: SessionFactory, now: datetime | None = None) -> ShopStats:
    now = now or utcnow()
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    async with sessions() as session:
        users = await session.scalar(select(func.count()).select_from(User)) or 0
        banned = await session.scalar(select(func.count()).select_from(User).where(User.banned)) or 0
        active = (
            await session.scalar(
                select(func.count()).select_from(Subscription).where(Subscription.expires_at > now)
            )
            or 0
        )
        review = (
            await session.scalar(
                select(func.count()).select_from(Payment).where(Payment.status == PaymentStatus.REVIEW)
            )
            or 0
        )
    return ShopStats(
        users,
        banned,
        active,
        await _revenue(sessions, midnight),
        await _revenue(sessions, now - timedelta(days=30)),
        review,
    )


async def waiting_review(sessions: SessionFactory, limit: int = 10) -> list[ReviewItem]:
    async with sessions() as session:
        rows = await session.scalars(
            select(Payment)
            .where(Payment.status == PaymentStatus.REVIEW)
            .order_by(Payment.created_at)
            .limit(limit)
        )
        return [
            ReviewItem(p.id, p.user_id, p.method, p.amount, p.currency, p.created_at, p.review_reason)
            for p in rows
        ]
