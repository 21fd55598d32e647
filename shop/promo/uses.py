"""Uses of a code: reserved with the payment that carries it, given back when that payment ends
without money (expired, cancelled, refunded), and free-day activations.

The limit holds by a conditional UPDATE (`used = used + 1 WHERE used < max_uses`), which PostgreSQL
re-checks on the locked row and SQLite runs under its write lock, never read-then-write; "once per
customer" by UNIQUE(code, holder).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from shop.access.ledger import GrantResult, grant
from shop.customers.accounts import ensure_subscription
from shop.db import SessionFactory
from shop.models import (
    Grant,
    GrantKind,
    Payment,
    PaymentStatus,
    PromoChoice,
    PromoCode,
    PromoKind,
    PromoUse,
    Subscription,
    utcnow,
)
from shop.promo.codes import PromoRefused, check, normalise

# Payments that end without money give their use back.
RELEASING = frozenset({PaymentStatus.EXPIRED, PaymentStatus.CANCELED, PaymentStatus.REFUNDED})


@dataclass(frozen=True)
class Activation:
    code: str
    days: int
    grant: GrantResult


def free_days_key(code_id: int, user_id: int) -> str:
    return f"promo:{code_id}:{user_id}"


async def _release(session: AsyncSession | AsyncConnection, use_ids: list[int]) -> None:
    """Gives these uses back: each at most once (the released_at condition), the counter with it."""
    for use_id in use_ids:
        released = await session.execute(
            update(PromoUse)
            .where(PromoUse.id == use_id, PromoUse.released_at.is_(None))
            .values(released_at=utcnow(), holder=None)
            .returning(PromoUse.code_id)
        )
        row = released.first()
        if row is not None:
            await session.execute(
                update(PromoCode).where(PromoCode.id == row[0]).values(used=PromoCode.used - 1)
            )


async def _release_abandoned(session: AsyncSession, code_id: int, user_id: int, hold: timedelta) -> None:
    """Uses held by orders nobody went on to pay (still `created`): the customer's own (they are
    ordering again now) and anyone's older than `hold`. Such an order can no longer be paid
    (`hold_lost`)."""
    stale = await session.scalars(
        select(PromoUse.id)
        .join(Payment, Payment.id == PromoUse.payment_id)
        .where(
            PromoUse.code_id == code_id,
            PromoUse.released_at.is_(None),
            Payment.status == PaymentStatus.CREATED,
            or_(Payment.user_id == user_id, Payment.created_at < utcnow() - hold),
        )
    )
    await _release(session, list(stale))


async def reserve(
    session: AsyncSession,
    code: PromoCode,
    user_id: int,
    payment_id: str | None,
    discount: Decimal = Decimal(0),
    bonus_days: int = 0,
    hold: timedelta | None = None,
) -> None:
    """Takes one use of `code` in the caller's transaction; PromoRefused("promo_exhausted") when
    none is left. A second use by a once-per-customer holder fails at the caller's commit
    (IntegrityError): the caller refuses with "promo_already_used"."""
    if hold is not None:
        await _release_abandoned(session, code.id, user_id, hold)
    taken = await session.execute(
        update(PromoCode)
        .where(
            PromoCode.id == code.id,
            PromoCode.active,
            or_(PromoCode.max_uses.is_(None), PromoCode.used < PromoCode.max_uses),
        )
        .values(used=PromoCode.used + 1)
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        raise PromoRefused("promo_exhausted")
    once = code.once_per_customer or code.kind is PromoKind.FREE_DAYS
    session.add(
        PromoUse(
            code_id=code.id,
            user_id=user_id,
            payment_id=payment_id,
            holder=user_id if once else None,
            discount=discount,
            bonus_days=bonus_days,
        )
    )


async def release_payment(connection: AsyncConnection, payment_id: str) -> bool:
    """The payment ended without money: its use (if any) goes back, once however often this runs.
    In the caller's transaction: the payment's move to its final status (`shop.payments.status`)."""
    ids = list(
        await connection.scalars(
            select(PromoUse.id).where(PromoUse.payment_id == payment_id, PromoUse.released_at.is_(None))
        )
    )
    await _release(connection, ids)
    return bool(ids)


async def of_payment(sessions: SessionFactory, payment_id: str) -> PromoUse | None:
    async with sessions() as session:
        return await session.scalar(select(PromoUse).where(PromoUse.payment_id == payment_id))


async def hold_lost(sessions: SessionFactory, payment_id: str) -> bool:
    """True for an order whose code use was given back (abandoned, then ordered again): its
    discounted amount may no longer be paid."""
    use = await of_payment(sessions, payment_id)
    return use is not None and use.released_at is not None


async def activate(
    sessions: SessionFactory, text: str, user_id: int, now: datetime | None = None
) -> Activation:
    """A free-days code: one use and a grant keyed by (code, customer); PromoRefused otherwise.
    A customer whose earlier activation stopped between the two (a crash) gets the grant now."""
    now = now or utcnow()
    code_text = normalise(text)
    async with sessions() as session:
        code = await session.scalar(select(PromoCode).where(PromoCode.code == code_text))
        subscription = await session.scalar(select(Subscription).where(Subscription.user_id == user_id))
    paid_before = bool(subscription and subscription.has_paid)
    terms = check(code, now, paid_before)
    assert code is not None
    if code.kind is not PromoKind.FREE_DAYS:
        raise PromoRefused("promo_needs_purchase")
    if subscription is None:  # a customer who never had access: their row comes with the grant
        subscription = await ensure_subscription(sessions, user_id)
    key = free_days_key(code.id, user_id)
    try:
        async with sessions() as session, session.begin():
            await reserve(session, code, user_id, None, bonus_days=int(terms.value))
    except IntegrityError:
        async with sessions() as session:
            held = await session.scalar(
                select(PromoUse.id).where(PromoUse.code_id == code.id, PromoUse.holder == user_id)
            )
        if held is None:
            raise
        async with sessions() as session:
            applied = await session.scalar(select(Grant.id).where(Grant.source_key == key))
        if applied is not None:
            raise PromoRefused("promo_already_used") from None
    days = int(terms.value)
    result = await grant(
        sessions, subscription.id, key, timedelta(days=days), GrantKind.GIFT, f"promo:{code.code}"
    )
    return Activation(code.code, days, result)


async def settle(connection: AsyncConnection, payment_id: str) -> None:
    """The payment that carried a code was delivered: the customer's choice of it is spent. In the
    caller's transaction: the payment's move to delivered (`shop.payments.status`)."""
    use = (
        await connection.execute(
            select(PromoUse.user_id, PromoUse.code_id).where(PromoUse.payment_id == payment_id)
        )
    ).first()
    if use is not None:
        await connection.execute(
            delete(PromoChoice).where(PromoChoice.user_id == use.user_id, PromoChoice.code_id == use.code_id)
        )


async def holds(sessions: SessionFactory, code_id: int, user_id: int) -> bool:
    """Whether this customer holds a use of the code (once-per-customer codes keep it for good)."""
    async with sessions() as session:
        found = await session.scalar(
            select(PromoUse.id).where(PromoUse.code_id == code_id, PromoUse.holder == user_id)
        )
    return found is not None
