"""Explicit transitions of `payments.status`: each change is a conditional UPDATE from the
states allowed to precede it, so concurrent or repeated writers can only move a payment forward.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from shop.db import SessionFactory
from shop.models import Payment, PaymentStatus, utcnow

S = PaymentStatus

# target -> the states it may be reached from
ALLOWED_FROM: dict[PaymentStatus, frozenset[PaymentStatus]] = {
    S.PENDING: frozenset({S.CREATED}),
    # Stars and P2P go straight from created to succeeded (no provider-side pending object).
    S.SUCCEEDED: frozenset({S.CREATED, S.PENDING, S.REVIEW}),
    S.DELIVERED: frozenset({S.SUCCEEDED}),
    S.CANCELED: frozenset({S.CREATED, S.PENDING}),
    S.EXPIRED: frozenset({S.CREATED, S.PENDING}),
    # A late payment after our own expiry is money taken: a human looks at it.
    S.REVIEW: frozenset({S.CREATED, S.PENDING, S.SUCCEEDED, S.EXPIRED, S.CANCELED}),
    S.REFUNDED: frozenset({S.CREATED, S.PENDING, S.SUCCEEDED, S.DELIVERED, S.REVIEW}),
}

FINAL = frozenset({S.DELIVERED, S.CANCELED, S.EXPIRED, S.REVIEW, S.REFUNDED})


class TransitionRefused(Exception):
    def __init__(self, payment_id: str, current: PaymentStatus | None, target: PaymentStatus) -> None:
        super().__init__(f"payment {payment_id}: {current} -> {target} is not allowed")
        self.current = current
        self.target = target


async def transition(
    sessions: SessionFactory, payment_id: str, target: PaymentStatus, **fields: Any
) -> PaymentStatus:
    """Move the payment to `target` (setting `fields` too); already there is a no-op.

    Returns the previous status. Raises `TransitionRefused` when `target` cannot follow the
    current status (another writer moved the payment elsewhere first).
    """
    while True:
        previous = await _try_move(sessions, payment_id, target, fields)
        if previous is not None:
            return previous


async def _try_move(
    sessions: SessionFactory, payment_id: str, target: PaymentStatus, fields: dict[str, Any]
) -> PaymentStatus | None:
    async with sessions() as session, session.begin():
        current = await session.scalar(select(Payment.status).where(Payment.id == payment_id))
        if current is None or (current is not target and current not in ALLOWED_FROM[target]):
            raise TransitionRefused(payment_id, current, target)
        if current is target:
            return current
        changed = await session.execute(
            update(Payment)
            .where(Payment.id == payment_id, Payment.status == current)
            .values(status=target, updated_at=utcnow(), **fields)
        )
        # Zero rows: another writer moved it between our read and write; read again.
        return current if changed.rowcount == 1 else None  # type: ignore[attr-defined]
