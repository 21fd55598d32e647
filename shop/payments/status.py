"""Explicit transitions of `payments.status` (`shop.transitions`): which states each may follow."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from shop.db import SessionFactory
from shop.models import Payment, PaymentStatus, utcnow
from shop.payments import timeline
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
    sessions: SessionFactory,
    payment_id: str,
    target: PaymentStatus,
    *,
    noted_by: str | None = None,
    reason: str | None = None,
    **fields: Any,
) -> PaymentStatus:
    """Move the payment to `target` (setting `fields` too); see `shop.transitions.move`. A payment
    that ends without money gives its promo code use back; a delivered one settles the code the
    customer had chosen. Both run on every call (idempotent) in the move's transaction. `noted_by`:
    the timeline's line for the move ("pending → succeeded: reason") commits with it too, so a
    retry that finds the move made adds none."""

    async def with_move(connection: AsyncConnection, previous: PaymentStatus) -> None:
        if target in uses.RELEASING:
            await uses.release_payment(connection, payment_id)
        elif target is S.DELIVERED:
            await uses.settle(connection, payment_id)
        if noted_by is not None and previous is not target:
            detail = f"{previous.value} → {target.value}" + (f": {reason}" if reason else "")
            await timeline.write(connection, payment_id, timeline.EventKind.STATUS, detail, noted_by)

    return await move(
        sessions, Payment, payment_id, target, ALLOWED_FROM, with_move, updated_at=utcnow(), **fields
    )
