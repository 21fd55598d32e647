"""Telegram Stars (XTR): the invoice we ask the bot to send, the pre-checkout answer from the
database, and the charge a `successful_payment` carries (refunds go through `bot.gateway`).
"""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel
from sqlalchemy import select

from shop.customers import referrals
from shop.db import SessionFactory
from shop.models import Payment, PaymentMethod, PaymentStatus, User
from shop.payments.base import ProviderPayment, ProviderStatus
from shop.promo import uses

CURRENCY = "XTR"


class StarsInvoice(BaseModel):
    """Arguments for `sendInvoice`: the payload is our payment id, the price whole Stars."""

    title: str
    description: str
    payload: str
    currency: str = CURRENCY
    amount: int


class StarsCharge(BaseModel):
    """What `message.successful_payment` (or `refunded_payment`) carried, plus who sent it."""

    charge_id: str
    payload: str
    currency: str
    total_amount: int
    user_id: int


def as_provider_payment(charge: StarsCharge) -> ProviderPayment:
    # Telegram's own update (webhook secret or polling) is authentic; there is no object to re-fetch.
    return ProviderPayment(
        provider_payment_id=charge.charge_id,
        status=ProviderStatus.SUCCEEDED,
        amount=Decimal(charge.total_amount),
        currency=charge.currency,
        order_ref=charge.payload,
        payer_id=charge.user_id,
    )


async def pre_checkout_problem(
    sessions: SessionFactory, payload: str, currency: str, total_amount: int, user_id: int
) -> str | None:
    """None when Telegram may charge the customer; else the catalogue key of the reason.

    Reads only our database, so it answers within Telegram's 10 s whatever Temporal is doing.
    """
    async with sessions() as session:
        payment = await session.scalar(select(Payment).where(Payment.id == payload[:40]))
        banned = await session.scalar(select(User.banned).where(User.id == user_id))
    if payment is None or payment.method is not PaymentMethod.STARS or payment.user_id != user_id:
        return "pay_unknown"
    if banned:  # an invoice sent before the ban: no money is taken
        return "banned"
    if payment.status is not PaymentStatus.CREATED:
        return "pay_already_closed"
    if currency != CURRENCY or Decimal(total_amount) != payment.amount:
        return "pay_price_changed"
    if await referrals.discount_spent(sessions, payment):  # a second invoice of the first purchase
        return "pay_discount_spent"
    if await uses.hold_lost(sessions, payment.id):  # its promo code use went to a newer order
        return "pay_promo_lost"
    return None
