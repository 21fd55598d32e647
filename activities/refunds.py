"""Refund activities: check a refund against the provider and our payment, size the revocation."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Protocol, runtime_checkable

from pydantic import BaseModel
from sqlalchemy import select
from temporalio import activity
from temporalio.exceptions import ApplicationError

from shop.balance import ledger as balance
from shop.db import SessionFactory
from shop.models import Grant, Payment, PaymentMethod, PaymentPurpose, Plan, Product
from shop.payments.base import ProviderRefund, ProviderRejected, ReceiptFor
from shop.payments.timeline import EventKind, note


class RefundCheckInput(BaseModel):
    payment_id: str
    provider_refund_id: str | None  # re-fetched at the provider when it has a refund API
    amount: Decimal | None  # Stars: from Telegram's own update


class RefundPlan(BaseModel):
    valid: bool
    reason: str = ""
    subscription_id: int = 0
    seconds: int = 0  # negative: how much access the refund takes back
    full: bool = False
    product: Product = Product.VPN  # the entitlement the refunded purchase extended
    # A top-up's refund takes money off the balance instead of days (runs with TOPUP_REFUND_PATCH).
    balance_debit: Decimal = Decimal(0)


class TakeBackInput(BaseModel):
    payment_id: str
    refund_key: str  # the balance entry's source key: one debit per refund
    amount: Decimal


class ProviderRefundInput(BaseModel):
    payment_id: str  # ours: the payment whose money goes back, in full
    idempotence_key: str  # the same key on a retry: the provider makes one refund


@runtime_checkable
class RefundLookup(Protocol):
    """The part of a provider with a refund API (YooKassa): re-fetch a refund, make one."""

    async def fetch_refund(self, refund_id: str) -> ProviderRefund: ...

    async def create_refund(
        self,
        provider_payment_id: str,
        amount: Decimal,
        currency: str,
        idempotence_key: str,
        receipt: ReceiptFor | None = None,
    ) -> ProviderRefund: ...


class RefundActivities:
    def __init__(
        self, sessions: SessionFactory, refund_lookups: Mapping[PaymentMethod, RefundLookup]
    ) -> None:
        self.sessions = sessions
        self.lookups = refund_lookups

    async def _amount(self, payment: Payment, inp: RefundCheckInput) -> Decimal | str:
        if inp.provider_refund_id is None:
            return inp.amount if inp.amount is not None else payment.amount
        lookup = self.lookups.get(payment.method)
        if lookup is None:
            return f"{payment.method} has no refund lookup"
        try:
            refund = await lookup.fetch_refund(inp.provider_refund_id)
        except ProviderRejected as error:  # e.g. 404: the provider has no such refund (a forged event)
            return f"refund lookup refused: {error}"
        if not refund.succeeded:
            return "refund not succeeded at the provider"
        if refund.provider_payment_id != payment.provider_payment_id:
            return f"refund belongs to {refund.provider_payment_id}, not {payment.provider_payment_id}"
        if refund.currency != payment.currency:
            return f"refund currency {refund.currency} != {payment.currency}"
        return refund.amount

    @activity.defn
    async def refund_provider_payment(self, inp: ProviderRefundInput) -> ProviderRefund:
        """Give a payment's whole amount back at its provider (an operator's decision on a payment
        in review). Outages raise and are retried under the same key; a refusal is final."""
        async with self.sessions() as session:
            payment = await session.get(Payment, inp.payment_id)
            plan = await session.get(Plan, payment.plan_id) if payment and payment.plan_id else None
        if payment is None or payment.provider_payment_id is None:
            raise ApplicationError("no provider payment to refund", type="NotRefundable", non_retryable=True)
        provider = self.lookups.get(payment.method)
        if provider is None:
            raise ApplicationError(
                f"{payment.method} has no refund API", type="NotRefundable", non_retryable=True
            )
        try:
            refund = await provider.create_refund(
                payment.provider_payment_id,
                payment.amount,
                payment.currency,
                inp.idempotence_key,
                ReceiptFor(email=payment.receipt_email, item=plan.name if plan else "refund"),
            )
        except ProviderRejected as error:
            await note(self.sessions, payment.id, EventKind.REFUND, f"refund refused: {error}")
            raise ApplicationError(str(error), type="ProviderRejected", non_retryable=True) from None
        state = "succeeded" if refund.succeeded else "pending"
        detail = f"refunded at the provider: {refund.amount} {refund.currency} ({state}), {refund.refund_id}"
        await note(self.sessions, payment.id, EventKind.REFUND, detail)
        return refund

    @activity.defn
    async def take_back_topup(self, inp: TakeBackInput) -> str:
        """The refunded top-up's money off the balance, once per refund; what it did, for the run."""
        async with self.sessions() as session:
            payment = await session.get(Payment, inp.payment_id)
        if payment is None:
            raise ApplicationError("unknown payment", type="UnknownPayment", non_retryable=True)
        moved = await balance.take_back_topup(
            self.sessions, payment.user_id, payment.id, inp.amount, inp.refund_key
        )
        if moved is None:
            detail = "the top-up was never credited: nothing taken off the balance"
        else:
            debt = " (a debt)" if moved.balance < 0 else ""
            detail = f"taken off the balance: {inp.amount}; balance now {moved.balance}{debt}"
        if moved is None or moved.applied:
            await note(self.sessions, payment.id, EventKind.REFUND, detail)
        return detail

    @activity.defn
    async def check_refund(self, inp: RefundCheckInput) -> RefundPlan:
        async with self.sessions() as session:
            payment = await session.get(Payment, inp.payment_id)
            if payment is None:
                return RefundPlan(valid=False, reason="unknown payment")
            plan = await session.get(Plan, payment.plan_id) if payment.plan_id else None
            purchase = await session.scalar(select(Grant).where(Grant.source_key == payment.id))
        topup = payment.purpose is PaymentPurpose.TOPUP
        if not topup and (purchase is None or plan is None):
            # Nothing was granted for this payment, so the refund takes nothing back.
            return RefundPlan(valid=False, reason="no purchase grant for this payment")
        amount = await self._amount(payment, inp)
        if isinstance(amount, str):
            return RefundPlan(valid=False, reason=amount)
        if topup:  # money on the balance, not days, is what it takes back
            detail = f"{amount} {payment.currency} of a top-up, {inp.provider_refund_id or 'refund'}"
            await note(self.sessions, payment.id, EventKind.REFUND, detail)
            return RefundPlan(valid=True, full=amount >= payment.amount, balance_debit=amount)
        assert purchase is not None
        fraction = min(Decimal(1), amount / payment.amount) if payment.amount else Decimal(1)
        full = "full" if fraction >= 1 else "partial"
        detail = f"{amount} {payment.currency} ({full}), {inp.provider_refund_id or 'refund'}"
        await note(self.sessions, payment.id, EventKind.REFUND, detail)
        return RefundPlan(
            valid=True,
            subscription_id=purchase.subscription_id,
            seconds=-int(purchase.duration_seconds * fraction),
            full=fraction >= 1,
            product=purchase.product,
        )
