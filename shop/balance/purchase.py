"""Paying an order from the balance: the debit and the payment's move to `succeeded` in one
transaction, keyed by the payment, so a double tap or a retry debits once."""

from __future__ import annotations

from sqlalchemy import update

from shop.balance.ledger import Movement, move
from shop.db import SessionFactory
from shop.models import BalanceKind, Payment, PaymentMethod, PaymentStatus, utcnow


async def pay_from_balance(sessions: SessionFactory, payment_id: str) -> Movement:
    """Debits the order's amount; BalanceShort (nothing written) when the balance is lower.
    An order already paid this way returns applied=False."""
    async with sessions() as session, session.begin():
        payment = await session.get(Payment, payment_id)
        if payment is None or payment.method is not PaymentMethod.BALANCE:
            raise LookupError(payment_id)
        moved = await move(
            session, payment.user_id, BalanceKind.PURCHASE, -payment.amount, f"payment:{payment_id}",
            "payment:balance",
        )  # fmt: skip
        if moved.applied:
            now = utcnow()
            changed = await session.execute(
                update(Payment)
                .where(Payment.id == payment_id, Payment.status == PaymentStatus.CREATED)
                .values(status=PaymentStatus.SUCCEEDED, paid_at=now, updated_at=now)
            )
            if changed.rowcount != 1:  # type: ignore[attr-defined]
                raise LookupError(f"{payment_id} is no longer payable")  # rolls the debit back
        return moved
