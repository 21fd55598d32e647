"""Moving the referral balance to the main one: a withdrawal the shop pays at once onto the balance,
both rows in one transaction under the customer's lock (the same lock a payout request takes)."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import update

from shop.balance.ledger import CENT, move
from shop.customers import referrals
from shop.db import SessionFactory
from shop.models import BalanceKind, User, Withdrawal, WithdrawalStatus, utcnow

DETAILS = "balance"  # the withdrawal's "where to": the customer's own balance


async def move_referral_balance(sessions: SessionFactory, user_id: int) -> Decimal:
    """The whole referral balance onto the main balance; the amount moved (0: nothing to move)."""
    async with sessions() as session, session.begin():
        locked = await session.execute(
            update(User).where(User.id == user_id).values(updated_at=utcnow()).returning(User.id)
        )
        if locked.first() is None:
            raise LookupError(user_id)
        amount = (await referrals.spendable(session, user_id)).quantize(CENT)
        if amount <= 0:
            return Decimal(0)
        now = utcnow()
        row = Withdrawal(
            user_id=user_id,
            amount=amount,
            details=DETAILS,
            status=WithdrawalStatus.APPROVED,
            decided_at=now,
            created_at=now,
        )
        session.add(row)
        await session.flush()
        await move(session, user_id, BalanceKind.REFERRAL, amount, f"referral-move:{row.id}", "customer")
        return amount
