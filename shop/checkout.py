"""The boundary between the bot's buy screens and the payments area (PaymentWorkflow, providers).

The bot shows plans, then the methods `Checkout.methods()` lists; picking one calls `open_payment`,
which mints our payment ID; the pay button carries that ID, and each tap calls `pay`, which is
idempotent per ID (it starts or joins `payment:<id>`), so a double tap reaches the same payment.
The payments area implements this protocol and hands its instance to `bot.main.build_dispatcher`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from shop.models import PaymentMethod


class PaymentNotFound(LookupError):
    """Unknown payment ID, or one that belongs to another customer: the bot says so and stops."""


class PaymentClosed(Exception):
    """The payment can no longer be paid (paid, expired, cancelled)."""


@dataclass(frozen=True)
class PaymentOffer:
    """What the customer needs to pay one payment; exactly one of url / stars / requisites is set."""

    payment_id: str
    method: PaymentMethod
    amount: Decimal
    currency: str
    title: str  # the plan's name, for the invoice
    days: int
    url: str | None = None  # YooKassa confirmation URL, Crypto Pay invoice URL
    stars: int | None = None  # Telegram Stars: the bot sends an XTR invoice with payload = payment_id
    requisites: str | None = None  # manual P2P transfer: card/phone to pay to


class Checkout(Protocol):
    def methods(self) -> list[PaymentMethod]:
        """The methods that are enabled and configured, in display order."""
        ...

    async def open_payment(self, user_id: int, plan_id: int, method: PaymentMethod) -> str:
        """Mints our payment ID for this pick (raises LookupError for an inactive plan)."""
        ...

    async def pay(self, user_id: int, payment_id: str) -> PaymentOffer:
        """Starts or joins the payment's workflow; raises PaymentNotFound / PaymentClosed."""
        ...

    async def confirm_transfer(self, user_id: int, payment_id: str) -> bool:
        """P2P: the customer says they paid; the payment goes to the operators for review.
        False when it was already submitted (a double tap)."""
        ...

    async def review(self, operator_id: int, payment_id: str, approve: bool) -> bool:
        """P2P approval by an operator; False when it was already decided (a double tap)."""
        ...
