"""The referral program: the invitee's first-purchase discount, the referrer's rewards, and
withdrawals of the balance, kept as two ledgers (rewards in, withdrawals out).

Balance = rewards − withdrawals requested or approved; a declined request frees its amount again.
Money is exact `Decimal` RUB. A reward is a share of the order's RUB worth (`payments.price_rub`,
after the invitee's discount; for Stars the plan's RUB price, as Stars have no RUB amount).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from shop.db import SessionFactory
from shop.models import (
    Payment,
    Plan,
    ReferralReward,
    User,
    Withdrawal,
    WithdrawalStatus,
    utcnow,
)
from shop.operators import audit
from shop.operators.audit import Actor
from shop.settings import Settings
from shop.storefront.fields import OwnerSettings

CENT = Decimal("0.01")
START_PREFIX = "ref_"
DETAILS_MIN, DETAILS_MAX = 5, 200
COUNTED = (WithdrawalStatus.REQUESTED, WithdrawalStatus.APPROVED)  # out of the balance
# target -> the state it may be reached from: an open request is decided once
DECISIONS = {
    WithdrawalStatus.APPROVED: WithdrawalStatus.REQUESTED,
    WithdrawalStatus.DECLINED: WithdrawalStatus.REQUESTED,
}


class WithdrawalRefused(Exception):
    """The request cannot be made; `key` names the customer text in the bot catalogues."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


@dataclass(frozen=True)
class Summary:
    invited: int
    paying: int  # invitees with at least one delivered payment
    earned: Decimal
    balance: Decimal
    open_request: Decimal | None  # the amount of the request an operator has not decided yet


@dataclass(frozen=True)
class Reward:
    payment_id: str
    referrer_id: int
    invitee_id: int
    amount: Decimal
    applied: bool  # False: it had been written before (a retry, a re-run)


@dataclass(frozen=True)
class RewardNotice:
    referrer_id: int
    language: str
    invitee: str  # how the referrer knows them: @username or the name
    amount: Decimal


@dataclass(frozen=True)
class WithdrawalView:
    id: int
    user_id: int
    amount: Decimal
    details: str
    status: WithdrawalStatus
    created_at: datetime
    decided_by: int | None


@dataclass(frozen=True)
class Decision:
    first: bool  # False: already decided (a double tap, another operator)
    withdrawal: WithdrawalView


def link(bot_username: str, user_id: int) -> str:
    return f"https://t.me/{bot_username}?start={START_PREFIX}{user_id}"


def referrer_from(start_argument: str | None) -> int | None:
    """The referrer's id from a /start argument `ref_<id>`; anything else is no referral."""
    number = (start_argument or "").removeprefix(START_PREFIX)
    if start_argument and start_argument.startswith(START_PREFIX) and number.isdigit():
        return int(number)
    return None


def discounted(amount: Decimal, percent: int) -> Decimal:
    return (amount * (100 - percent) / 100).quantize(CENT, ROUND_HALF_UP)


def discounted_stars(stars: int, percent: int) -> int:
    """Whole Stars, at least one."""
    return max(1, int((Decimal(stars) * (100 - percent) / 100).quantize(Decimal(1), ROUND_HALF_UP)))


def share(amount: Decimal, percent: int) -> Decimal:
    return (amount * percent / 100).quantize(CENT, ROUND_HALF_UP)


async def _has_bought(session: AsyncSession, user_id: int, other_than: str | None = None) -> bool:
    query = select(Payment.id).where(Payment.user_id == user_id, Payment.delivered_at.is_not(None))
    if other_than is not None:
        query = query.where(Payment.id != other_than)
    return await session.scalar(query.limit(1)) is not None


async def first_purchase_discount(sessions: SessionFactory, owner: OwnerSettings, user_id: int) -> int:
    """The percent off this customer's next order: invitees only, before their first delivered one."""
    if not owner.referrals_enabled or not owner.referral_discount_percent:
        return 0
    async with sessions() as session:
        if await session.scalar(select(User.referrer_id).where(User.id == user_id)) is None:
            return 0
        return 0 if await _has_bought(session, user_id) else owner.referral_discount_percent


async def discount_spent(sessions: SessionFactory, payment: Payment) -> bool:
    """A discounted order opened beside the one that became the first purchase: not payable any more."""
    if not payment.discount_percent:
        return False
    async with sessions() as session:
        return await _has_bought(session, payment.user_id, other_than=payment.id)


# Rewards ---------------------------------------------------------------------------------------


def _reward(row: ReferralReward, applied: bool) -> Reward:
    return Reward(row.payment_id, row.referrer_id, row.invitee_id, row.amount, applied)


async def _written(sessions: SessionFactory, payment_id: str) -> ReferralReward | None:
    async with sessions() as session:
        return await session.scalar(select(ReferralReward).where(ReferralReward.payment_id == payment_id))


async def record_reward(sessions: SessionFactory, owner: OwnerSettings, payment_id: str) -> Reward | None:
    """The referrer's share of this delivered payment, written at most once (UNIQUE payment_id):
    a repeat gets the row already there. None when nothing is due (no referrer, the program off,
    0 %, not delivered)."""
    existing = await _written(sessions, payment_id)
    if existing is not None:
        return _reward(existing, applied=False)
    if not owner.referrals_enabled or not owner.referral_percent:
        return None
    async with sessions() as session:
        payment = await session.get(Payment, payment_id)
        if payment is None or payment.delivered_at is None:
            return None
        referrer_id = await session.scalar(select(User.referrer_id).where(User.id == payment.user_id))
        if referrer_id is None:
            return None
        base = payment.price_rub
        if base is None:  # minted by a process older than this column: it had no discount
            base = await session.scalar(select(Plan.price).where(Plan.id == payment.plan_id))
        amount = share(base or Decimal(0), owner.referral_percent)
        if amount <= 0:
            return None
        row = ReferralReward(
            payment_id=payment.id, referrer_id=referrer_id, invitee_id=payment.user_id, amount=amount
        )
        session.add(row)
        try:
            await session.commit()
        except IntegrityError:
            await session.rollback()  # the same payment rewarded concurrently: that row stands
            raced = await _written(sessions, payment_id)
            if raced is None:
                raise
            return _reward(raced, applied=False)
    return _reward(row, applied=True)


async def reward_notice(sessions: SessionFactory, payment_id: str) -> RewardNotice | None:
    """What to tell the referrer about this reward; None when there is none or they were told."""
    async with sessions() as session:
        row = await session.scalar(select(ReferralReward).where(ReferralReward.payment_id == payment_id))
        if row is None or row.notified_at is not None:
            return None
        referrer = await session.get(User, row.referrer_id)
        invitee = await session.get(User, row.invitee_id)
    if referrer is None or invitee is None:
        return None
    name = f"@{invitee.username}" if invitee.username else invitee.full_name
    return RewardNotice(referrer.id, referrer.language, name, row.amount)


async def mark_notified(sessions: SessionFactory, payment_id: str) -> None:
    async with sessions() as session, session.begin():
        await session.execute(
            update(ReferralReward)
            .where(ReferralReward.payment_id == payment_id, ReferralReward.notified_at.is_(None))
            .values(notified_at=utcnow())
        )


# Balance ---------------------------------------------------------------------------------------


async def _balance(session: AsyncSession, user_id: int) -> tuple[Decimal, Decimal]:
    """(earned, balance) as this session sees them."""
    earned = await session.scalar(
        select(func.coalesce(func.sum(ReferralReward.amount), 0)).where(ReferralReward.referrer_id == user_id)
    )
    out = await session.scalar(
        select(func.coalesce(func.sum(Withdrawal.amount), 0)).where(
            Withdrawal.user_id == user_id, Withdrawal.status.in_(COUNTED)
        )
    )
    earned, out = Decimal(earned or 0).quantize(CENT), Decimal(out or 0).quantize(CENT)
    return earned, max(Decimal(0).quantize(CENT), earned - out)


async def spendable(session: AsyncSession, user_id: int) -> Decimal:
    """The referral balance as this session sees it (the caller holds the customer's lock)."""
    return (await _balance(session, user_id))[1]


async def _open_request(session: AsyncSession, user_id: int) -> Withdrawal | None:
    return await session.scalar(
        select(Withdrawal).where(
            Withdrawal.user_id == user_id, Withdrawal.status == WithdrawalStatus.REQUESTED
        )
    )


async def summary(sessions: SessionFactory, user_id: int) -> Summary:
    async with sessions() as session:
        invited = await session.scalar(
            select(func.count()).select_from(User).where(User.referrer_id == user_id)
        )
        paying = await session.scalar(
            select(func.count(func.distinct(Payment.user_id)))
            .join(User, User.id == Payment.user_id)
            .where(User.referrer_id == user_id, Payment.delivered_at.is_not(None))
        )
        earned, balance = await _balance(session, user_id)
        open_request = await _open_request(session, user_id)
    return Summary(invited or 0, paying or 0, earned, balance, open_request.amount if open_request else None)


# Withdrawals -----------------------------------------------------------------------------------


def _view(row: Withdrawal) -> WithdrawalView:
    return WithdrawalView(
        row.id, row.user_id, row.amount, row.details, row.status, row.created_at, row.decided_by
    )


def clean_details(text: str | None) -> str:
    """Payout details as typed (card, phone, wallet), trimmed; WithdrawalRefused when too short or long."""
    details = " ".join((text or "").split())
    if not DETAILS_MIN <= len(details) <= DETAILS_MAX:
        raise WithdrawalRefused("wd_details_length")
    return details


async def request_withdrawal(
    sessions: SessionFactory, owner: OwnerSettings, user_id: int, details: str
) -> WithdrawalView:
    """Asks to pay out the whole balance to `details`. Refused (WithdrawalRefused) when the program is
    off, the balance is under REFERRAL_MIN_WITHDRAWAL or a request is already open."""
    if not owner.referrals_enabled:
        raise WithdrawalRefused("ref_disabled")
    details = clean_details(details)
    try:
        async with sessions() as session, session.begin():
            # Writing the customer's row first serialises their requests (a row lock on PostgreSQL,
            # the write lock on SQLite), so the balance read below cannot go stale before the insert.
            locked = await session.execute(
                update(User).where(User.id == user_id).values(updated_at=utcnow()).returning(User.id)
            )
            if locked.first() is None:
                raise WithdrawalRefused("need_start")
            if await _open_request(session, user_id) is not None:
                raise WithdrawalRefused("wd_already_open")
            _, balance = await _balance(session, user_id)
            if balance < owner.referral_min_withdrawal:
                raise WithdrawalRefused("wd_below_minimum")
            row = Withdrawal(user_id=user_id, amount=balance, details=details)
            session.add(row)
            await session.flush()
            return _view(row)
    except IntegrityError:  # the partial unique index: another request got in first
        raise WithdrawalRefused("wd_already_open") from None


async def decide_withdrawal(
    sessions: SessionFactory,
    settings: Settings,
    operator_id: int,
    withdrawal_id: int,
    approve: bool,
    via: str = "bot",
) -> Decision:
    """An operator's decision: the first one counts. PermissionError for non-operators, LookupError
    for an unknown request."""
    if not settings.is_admin(operator_id):
        raise PermissionError(operator_id)
    target = WithdrawalStatus.APPROVED if approve else WithdrawalStatus.DECLINED
    async with sessions() as session, session.begin():
        changed = await session.execute(
            update(Withdrawal)
            .where(Withdrawal.id == withdrawal_id, Withdrawal.status == DECISIONS[target])
            .values(status=target, decided_by=operator_id, decided_at=utcnow())
        )
        row = await session.get(Withdrawal, withdrawal_id, populate_existing=True)
        if row is not None and changed.rowcount == 1:  # type: ignore[attr-defined]
            audit.record(
                session,
                Actor(operator_id, via),
                f"withdrawal.{'approve' if approve else 'decline'}",
                f"withdrawal:{withdrawal_id}",
                {"status": DECISIONS[target].value},
                {"status": target.value, "amount": row.amount, "user": row.user_id},
            )
    if row is None:
        raise LookupError(withdrawal_id)
    return Decision(changed.rowcount == 1, _view(row))  # type: ignore[attr-defined]


async def open_withdrawals(sessions: SessionFactory, limit: int = 20) -> list[WithdrawalView]:
    """Requests waiting for an operator, oldest first."""
    async with sessions() as session:
        rows = await session.scalars(
            select(Withdrawal)
            .where(Withdrawal.status == WithdrawalStatus.REQUESTED)
            .order_by(Withdrawal.created_at, Withdrawal.id)
            .limit(limit)
        )
        return [_view(row) for row in rows]
