"""The operator's numbers: customers, active subscriptions, revenue, payments waiting for review
(money taken but not delivered, and P2P transfers the customer claimed, waiting for a decision)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, or_, select

from shop.db import SessionFactory
from shop.models import Payment, PaymentMethod, PaymentStatus, Subscription, User, utcnow

PAID = (PaymentStatus.SUCCEEDED, PaymentStatus.DELIVERED)
# A claimed transfer stays pending until the operator decides or the review window closes.
AWAITING_DECISION = (
    (Payment.method == PaymentMethod.P2P)
    & (Payment.status == PaymentStatus.PENDING)
    & Payment.transfer_claimed_at.is_not(None)
)
TO_REVIEW = or_(Payment.status == PaymentStatus.REVIEW, AWAITING_DECISION)


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
    awaiting_decision: bool  # a P2P transfer: Approve / Decline go to its workflow


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
        review = await session.scalar(select(func.count()).select_from(Payment).where(TO_REVIEW)) or 0
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
            select(Payment).where(TO_REVIEW).order_by(Payment.created_at).limit(limit)
        )
        return [
            ReviewItem(
                p.id,
                p.user_id,
                p.method,
                p.amount,
                p.currency,
                p.created_at,
                p.review_reason,
                p.status is PaymentStatus.PENDING,
            )
            for p in rows
        ]
