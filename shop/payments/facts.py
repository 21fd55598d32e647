"""What a payment's steps read about it, by one statement: the payment row, its plan, the promo
bonus it carries, the customer's language, subscription and whether they have a referrer.

The payment run reads these on every payment (loading the order, composing its notices); one
Core statement on a connection replaces a Session with five or six loads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, select

from shop.db import SessionFactory, engine_of
from shop.models import (
    Payment,
    PaymentMethod,
    PaymentPurpose,
    PaymentStatus,
    Plan,
    Product,
    PromoUse,
    Subscription,
    User,
)


@dataclass(frozen=True)
class PaymentFacts:
    id: str
    user_id: int
    method: PaymentMethod
    amount: Decimal
    currency: str
    status: PaymentStatus
    provider_payment_id: str | None
    confirmation_url: str | None
    receipt_email: str | None
    purpose: PaymentPurpose
    plan_name: str | None  # None: no plan (a top-up) or the plan is gone
    plan_days: int | None
    plan_product: Product | None
    bonus_days: int | None  # of a promo use the payment still holds (a released one is not read)
    language: str
    subscription_id: int | None  # None: the customer has none yet
    subscription_token: str | None
    expires_at: datetime | None
    referred: bool  # the customer came by a referral link (set once, when they first came)

    @property
    def days(self) -> int:
        """What the payment buys: the plan's days and the promo's bonus."""
        return (self.plan_days or 0) + (self.bonus_days or 0)

    @property
    def product(self) -> Product:
        """The plan's; a payment without a plan counts as VPN."""
        return self.plan_product or Product.VPN


# The columns in PaymentFacts' order.
_FACTS = (
    select(
        Payment.id,
        Payment.user_id,
        Payment.method,
        Payment.amount,
        Payment.currency,
        Payment.status,
        Payment.provider_payment_id,
        Payment.confirmation_url,
        Payment.receipt_email,
        Payment.purpose,
        Plan.name,
        Plan.duration_days,
        Plan.product,
        PromoUse.bonus_days,
        User.language,
        Subscription.id,
        Subscription.token,
        Subscription.expires_at,
        User.referrer_id.is_not(None),
    )
    .select_from(Payment)
    .join(User, User.id == Payment.user_id)
    .outerjoin(Plan, Plan.id == Payment.plan_id)
    .outerjoin(PromoUse, and_(PromoUse.payment_id == Payment.id, PromoUse.released_at.is_(None)))
    .outerjoin(Subscription, Subscription.user_id == Payment.user_id)
)


async def payment_facts(sessions: SessionFactory, payment_id: str) -> PaymentFacts | None:
    async with engine_of(sessions).connect() as connection:
        row = (await connection.execute(_FACTS.where(Payment.id == payment_id))).first()
    columns: tuple[Any, ...] = tuple(row) if row is not None else ()
    return PaymentFacts(*columns) if columns else None
