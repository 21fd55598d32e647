"""Credits and debits of the balance. A debit first writes the customer's row (a row lock on
PostgreSQL, the write lock on SQLite), so concurrent debits of one customer run one after another
and each sees the others' rows: the balance never goes below zero. Credits need no lock: a debit
that misses a credit committing beside it only refuses, never overdraws."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from shop.db import SessionFactory
from shop.models import BalanceEntry, BalanceKind, User, utcnow
from shop.operators import audit
from shop.operators.audit import Actor

CENT = Decimal("0.01")
MAX_AMOUNT = Decimal(1_000_000)


def topup_key(payment_id: str) -> str:
    """The source key of a paid top-up's credit."""
    return f"topup:{payment_id}"


class BalanceShort(Exception):
    """Not enough on the balance for this debit; nothing was written."""

    def __init__(self, balance: Decimal, needed: Decimal) -> None:
        super().__init__(f"balance {balance} < {needed}")
        self.balance = balance
        self.needed = needed


@dataclass(frozen=True)
class Entry:
    kind: BalanceKind
    amount: Decimal
    note: str
    actor: str
    created_at: datetime


@dataclass(frozen=True)
class Movement:
    applied: bool  # False: this source key had moved money before (a retry, a duplicate)
    balance: Decimal


async def _sum(session: AsyncSession, user_id: int) -> Decimal:
    total = await session.scalar(
        select(func.coalesce(func.sum(BalanceEntry.amount), 0)).where(BalanceEntry.user_id == user_id)
    )
    return Decimal(total or 0).quantize(CENT)


async def balance(sessions: SessionFactory, user_id: int) -> Decimal:
    async with sessions() as session:
        return await _sum(session, user_id)


async def entries(sessions: SessionFactory, user_id: int, limit: int = 50) -> list[Entry]:
    async with sessions() as session:
        rows = await session.scalars(
            select(BalanceEntry)
            .where(BalanceEntry.user_id == user_id)
            .order_by(BalanceEntry.id.desc())
            .limit(limit)
        )
        return [Entry(r.kind, r.amount, r.note, r.actor, r.created_at) for r in rows]


async def _lock_customer(session: AsyncSession, user_id: int) -> None:
    locked = await session.execute(
        update(User).where(User.id == user_id).values(updated_at=utcnow()).returning(User.id)
    )
    if locked.first() is None:
        raise LookupError(user_id)


async def move(
    session: AsyncSession,
    user_id: int,
    kind: BalanceKind,
    amount: Decimal,
    source_key: str,
    actor: str,
    note: str = "",
    overdraw: bool = False,
) -> Movement:
    """One movement in the caller's transaction. A debit (amount < 0) locks the customer first and
    raises BalanceShort when it would overdraw, unless `overdraw`: money that already left the shop
    (a top-up refunded at its provider) is taken back whole, and the balance may show a debt. A
    source key already used returns applied=False and writes nothing (the caller's other writes in
    this transaction still commit)."""
    amount = Decimal(amount).quantize(CENT)
    if amount == 0 or abs(amount) > MAX_AMOUNT:
        raise ValueError(f"amount {amount}")
    if amount < 0:
        await _lock_customer(session, user_id)
    if await session.scalar(select(BalanceEntry.id).where(BalanceEntry.source_key == source_key)) is not None:
        return Movement(False, await _sum(session, user_id))
    current = await _sum(session, user_id)
    if amount < 0 and current + amount < 0 and not overdraw:
        raise BalanceShort(current, -amount)
    session.add(
        BalanceEntry(
            user_id=user_id, kind=kind, amount=amount, source_key=source_key, note=note[:500], actor=actor
        )
    )
    await session.flush()
    return Movement(True, current + amount)


async def record(
    sessions: SessionFactory,
    user_id: int,
    kind: BalanceKind,
    amount: Decimal,
    source_key: str,
    actor: str,
    note: str = "",
    overdraw: bool = False,
) -> Movement:
    """A movement on its own; idempotent by `source_key` also when two writers race (UNIQUE)."""
    try:
        async with sessions() as session, session.begin():
            return await move(session, user_id, kind, amount, source_key, actor, note, overdraw)
    except IntegrityError:
        return Movement(False, await balance(sessions, user_id))


async def adjust(
    sessions: SessionFactory, actor: Actor, user_id: int, amount: Decimal, reason: str, nonce: str
) -> Movement:
    """An operator's correction with its reason, audited in the same transaction. `nonce` comes
    from the form, so a resubmitted form moves nothing more. BalanceShort when it would overdraw."""
    key = f"adjust:{nonce}"
    try:
        async with sessions() as session, session.begin():
            moved = await move(
                session, user_id, BalanceKind.ADJUSTMENT, amount, key, f"operator:{actor.id}", reason
            )
            if moved.applied:
                audit.record(
                    session,
                    actor,
                    "balance.adjust",
                    f"user:{user_id}",
                    {"balance": moved.balance - amount},
                    {"balance": moved.balance, "amount": amount},
                    reason=reason,
                )
            return moved
    except IntegrityError:
        return Movement(False, await balance(sessions, user_id))


async def take_back_topup(
    sessions: SessionFactory, user_id: int, payment_id: str, amount: Decimal, refund_key: str
) -> Movement | None:
    """A top-up refunded at its provider: the money went back to the customer, so it leaves the
    balance too, whole (at most what the top-up credited), even into a debt. Once per refund
    (`refund_key`). None when the top-up was never credited: nothing to take back."""
    async with sessions() as session:
        credited = await session.scalar(
            select(BalanceEntry.amount).where(BalanceEntry.source_key == topup_key(payment_id))
        )
    if credited is None:
        return None
    taken = min(Decimal(amount), Decimal(credited))
    note = f"top-up {payment_id} refunded"
    return await record(
        sessions, user_id, BalanceKind.REFUND, -taken, refund_key, "refund", note, overdraw=True
    )
