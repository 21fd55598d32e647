"""Minting a gift for a delivered gift payment, claiming it, refunding it."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import ColumnElement, or_, select, true, update
from sqlalchemy.exc import IntegrityError

from shop.access.ledger import grant
from shop.balance.ledger import move
from shop.customers.accounts import ensure_subscription
from shop.db import SessionFactory
from shop.models import BalanceKind, Gift, GrantKind, Payment, PaymentPurpose, Plan, utcnow
from shop.operators import audit
from shop.operators.audit import Actor

START_PREFIX = "gift_"
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud or retyped safely


class GiftRefused(Exception):
    """The gift cannot be claimed or refunded; `key` names the text in the catalogues."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


@dataclass(frozen=True)
class GiftView:
    code: str
    payment_id: str
    payer_id: int
    plan_name: str
    days: int
    worth: Decimal
    redeemed_by: int | None
    redeemed_at: datetime | None
    refunded_at: datetime | None
    created_at: datetime


@dataclass(frozen=True)
class Claimed:
    gift: GiftView
    first: bool  # False: this customer had claimed it before (a repeated link)
    expires_at: datetime


def _view(row: Gift) -> GiftView:
    return GiftView(
        row.code, row.payment_id, row.payer_id, row.plan_name, row.days, row.worth,
        row.redeemed_by, row.redeemed_at, row.refunded_at, row.created_at,
    )  # fmt: skip


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(10))


def from_start(argument: str | None) -> str | None:
    if argument and argument.startswith(START_PREFIX):
        return argument.removeprefix(START_PREFIX).upper()
    return None


def grant_key(code: str) -> str:
    return f"gift:{code}"


async def _by_payment(sessions: SessionFactory, payment_id: str) -> Gift | None:
    async with sessions() as session:
        return await session.scalar(select(Gift).where(Gift.payment_id == payment_id))


async def mint(sessions: SessionFactory, payment_id: str) -> GiftView:
    """The gift of this paid gift payment, created on first call (UNIQUE payment_id): a retry or
    a re-run gets the same code."""
    existing = await _by_payment(sessions, payment_id)
    if existing is not None:
        return _view(existing)
    async with sessions() as session:
        payment = await session.get(Payment, payment_id)
        plan = await session.get(Plan, payment.plan_id) if payment and payment.plan_id else None
    if payment is None or plan is None or payment.purpose is not PaymentPurpose.GIFT:
        raise LookupError(payment_id)
    row = Gift(
        code=new_code(),
        payment_id=payment_id,
        payer_id=payment.user_id,
        plan_name=plan.name,
        days=plan.duration_days,
        worth=payment.price_rub if payment.price_rub is not None else plan.price,
    )
    try:
        async with sessions() as session, session.begin():
            session.add(row)
    except IntegrityError:
        raced = await _by_payment(sessions, payment_id)
        if raced is None:
            raise
        return _view(raced)
    return _view(row)


async def get(sessions: SessionFactory, code: str) -> GiftView | None:
    async with sessions() as session:
        row = await session.get(Gift, code.strip().upper()[:24])
        return _view(row) if row else None


async def claim(sessions: SessionFactory, code: str, user_id: int) -> Claimed:
    """The first customer to open the gift gets its days; GiftRefused("gift_unknown" /
    "gift_taken" / "gift_refunded") otherwise. Idempotent for its winner: opening it again (or
    after a crash between the claim and the grant) applies the grant once."""
    gift = await get(sessions, code)
    if gift is None:
        raise GiftRefused("gift_unknown")
    subscription = await ensure_subscription(sessions, user_id)  # before the claim: the grant needs it
    async with sessions() as session, session.begin():
        await session.execute(
            update(Gift)
            .where(Gift.code == gift.code, Gift.redeemed_by.is_(None), Gift.refunded_at.is_(None))
            .values(redeemed_by=user_id, redeemed_at=utcnow())
        )
    fresh = await get(sessions, gift.code)
    assert fresh is not None
    if fresh.redeemed_by != user_id:
        raise GiftRefused("gift_refunded" if fresh.refunded_at else "gift_taken")
    result = await grant(
        sessions, subscription.id, grant_key(fresh.code), timedelta(days=fresh.days), GrantKind.GIFT,
        f"gift:{fresh.payer_id}",
    )  # fmt: skip
    return Claimed(fresh, result.applied, result.expires_at)


async def refund(sessions: SessionFactory, actor: Actor, code: str, reason: str) -> GiftView:
    """An operator gives an unclaimed gift's worth back to the payer's balance, once."""
    gift = await get(sessions, code)
    if gift is None:
        raise GiftRefused("gift_unknown")
    async with sessions() as session, session.begin():
        changed = await session.execute(
            update(Gift)
            .where(Gift.code == gift.code, Gift.redeemed_by.is_(None), Gift.refunded_at.is_(None))
            .values(refunded_at=utcnow())
        )
        if changed.rowcount != 1:  # type: ignore[attr-defined]
            raise GiftRefused("gift_taken" if gift.redeemed_by else "gift_refunded")
        await move(
            session, gift.payer_id, BalanceKind.REFUND, gift.worth, f"gift-refund:{gift.code}",
            f"operator:{actor.id}", reason,
        )  # fmt: skip
        audit.record(
            session, actor, "gift.refund", f"gift:{gift.code}", {"refunded": False},
            {"refunded": True, "worth": gift.worth, "payer": gift.payer_id}, reason=reason,
        )  # fmt: skip
    refunded = await get(sessions, gift.code)
    assert refunded is not None
    return refunded


async def _listed(sessions: SessionFactory, where: ColumnElement[bool], limit: int) -> list[GiftView]:
    async with sessions() as session:
        rows = await session.scalars(select(Gift).where(where).order_by(Gift.created_at.desc()).limit(limit))
        return [_view(row) for row in rows]


async def recent(sessions: SessionFactory, limit: int = 100) -> list[GiftView]:
    return await _listed(sessions, true(), limit)


async def of_customer(sessions: SessionFactory, user_id: int, limit: int = 50) -> list[GiftView]:
    """Gifts the customer bought or opened, newest first."""
    return await _listed(sessions, or_(Gift.payer_id == user_id, Gift.redeemed_by == user_id), limit)
