"""Explicit transitions of `payments.status` (`shop.transitions`): which states each may follow."""

from __future__ import annotations

from typing import Any

from shop.db import SessionFactory
from shop.models import Payment, PaymentStatus, utcnow
from shop.promo import uses
from shop.transitions import move

S = PaymentStatus

# target -> the states it may be reached from
ALLOWED_FROM: dict[PaymentStatus, frozenset[PaymentStatus]] = {
    S.PENDING: frozenset({S.CREATED}),
    # Stars and P2P go straight from created to succeeded (no provider-side pending object).
    S.SUCCEEDED: frozenset({S.CREATED, S.PENDING, S.REVIEW}),
    S.DELIVERED: frozenset({S.SUCCEEDED}),
    # From review: an operator closes it with a reason (console, ResolveReviewWorkflow).
    S.CANCELED: frozenset({S.CREATED, S.PENDING, S.REVIEW}),
    S.EXPIRED: frozenset({S.CREATED, S.PENDING}),
    # A late payment after our own expiry is money taken: a human looks at it.
    S.REVIEW: frozenset({S.CREATED, S.PENDING, S.SUCCEEDED, S.EXPIRED, S.CANCELED}),
    S.REFUNDED: frozenset({S.CREATED, S.PENDING, S.SUCCEEDED, S.DELIVERED, S.REVIEW}),
}

FINAL = frozenset({S.DELIVERED, S.CANCELED, S.EXPIRED, S.REVIEW, S.REFUNDED})


async def transition(
    sessions: SessionFactory, payment_id: str, target: PaymentStatus, **fields: Any
) -> PaymentStatus:
    """Move the payment to `target` (setting `fields` too); see `shop.transitions.move`. A payment
    that ends without money gives its promo code use back; a delivered one settles the code the
    customer had chosen. Both run on every call (idempotent), so a retry after a crash finishes them."""
    previous = await move(sessions, Payment, payment_id, target, ALLOWED_FROM, updated_at=utcnow(), **fields)
    if target in uses.RELEASING:
        await uses.release_payment(sessions, payment_id)
    elif target is S.DELIVERED:
        await uses.settle(sessions, payment_id)
    return previous
