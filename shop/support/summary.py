"""What operators see first in a new topic: who the customer is, their access, their last payments
and referral standing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select

from shop.customers import referrals
from shop.customers.users import Access, Customer, access_of, referrer_of
from shop.db import SessionFactory
from shop.models import Payment, PaymentStatus

LAST_PAYMENTS = 3


@dataclass(frozen=True)
class PaymentLine:
    id: str
    amount: Decimal
    currency: str
    status: PaymentStatus
    created_at: datetime


@dataclass(frozen=True)
class CustomerSummary:
    customer: Customer
    access: Access
    payments: list[PaymentLine]
    referrer_id: int | None
    invited: int
    referral_balance: Decimal


async def summarize(sessions: SessionFactory, customer: Customer) -> CustomerSummary:
    async with sessions() as session:
        rows = await session.scalars(
            select(Payment)
            .where(Payment.user_id == customer.id)
            .order_by(Payment.created_at.desc())
            .limit(LAST_PAYMENTS)
        )
        payments = [PaymentLine(p.id, p.amount, p.currency, p.status, p.created_at) for p in rows]
    referral = await referrals.summary(sessions, customer.id)
    return CustomerSummary(
        customer,
        await access_of(sessions, customer.id),
        payments,
        await referrer_of(sessions, customer.id),
        referral.invited,
        referral.balance,
    )
