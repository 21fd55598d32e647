"""The one interface every payment provider implements, and the provider-neutral payment view.

Workflows see only these pydantic models; the provider modules that speak HTTP are used by
activities, never imported by workflow code.
"""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from pydantic import BaseModel

from shop.models import PaymentMethod


class ProviderStatus(enum.StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    CANCELED = "canceled"
    EXPIRED = "expired"


class ProviderPayment(BaseModel):
    """A provider's payment as the provider itself reports it (re-fetched, never from a webhook)."""

    provider_payment_id: str
    status: ProviderStatus
    amount: Decimal
    currency: str
    order_ref: str | None  # our payment id as bound at the provider (metadata, payload)
    pay_url: str | None = None
    expires_at: datetime | None = None
    detail: str = ""  # e.g. the cancellation reason
    test: bool | None = None
    payer_id: int | None = None  # Telegram user who paid, where the provider tells (Stars)


class ProviderRefund(BaseModel):
    refund_id: str
    provider_payment_id: str
    succeeded: bool
    amount: Decimal
    currency: str


class ReceiptFor(BaseModel):
    """Whom a refund's receipt goes to and what it names (the payment's receipt had the same)."""

    email: str | None
    item: str


class NewPayment(BaseModel):
    """What we ask a provider to create; `payment_id` is also the idempotency key."""

    payment_id: str
    user_id: int
    amount: Decimal
    currency: str
    description: str
    receipt_email: str | None = None


class ProviderError(Exception):
    """The provider answered, or failed to, in a way a retry may fix (timeouts, 5xx, 429)."""


class ProviderRejected(ProviderError):
    """The provider refused the request for good (4xx validation, bad credentials)."""


class Provider(Protocol):
    method: PaymentMethod

    async def create(self, order: NewPayment) -> ProviderPayment: ...

    async def fetch(self, provider_payment_id: str) -> ProviderPayment: ...

    async def list_paid(self, since: datetime) -> list[ProviderPayment]: ...

    async def aclose(self) -> None: ...


class Expected(BaseModel):
    """Our side of a payment: what the provider must report before we deliver."""

    payment_id: str
    user_id: int
    amount: Decimal
    currency: str
    test_mode: bool | None = None


def mismatches(expected: Expected, got: ProviderPayment) -> list[str]:
    """Why a succeeded provider payment must not be delivered; empty when it may be."""
    problems = []
    if got.status is not ProviderStatus.SUCCEEDED:
        problems.append(f"status {got.status}")
    if got.amount != expected.amount:
        problems.append(f"amount {got.amount} != {expected.amount}")
    if got.currency.upper() != expected.currency.upper():
        problems.append(f"currency {got.currency} != {expected.currency}")
    if got.order_ref != expected.payment_id:
        problems.append(f"bound to {got.order_ref!r}, not {expected.payment_id!r}")
    if got.payer_id is not None and got.payer_id != expected.user_id:
        problems.append(f"paid by user {got.payer_id}, not {expected.user_id}")
    if expected.test_mode is not None and got.test is not None and got.test != expected.test_mode:
        problems.append(f"test={got.test} in {'test' if expected.test_mode else 'live'} mode")
    return problems
