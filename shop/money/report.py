"""The money page's figures for a period of UTC calendar days: revenue per day, method and plan
(paid and delivered payments by the day they were paid, as on the dashboard), refunds (by the day
the payment was last changed, which for a refunded payment is its refund), referral rewards and
withdrawals (by the day they were earned, requested and decided)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from shop.customers.stats import PAID
from shop.db import SessionFactory
from shop.models import (
    Payment,
    PaymentMethod,
    PaymentStatus,
    Plan,
    ReferralReward,
    Withdrawal,
    WithdrawalStatus,
)

T = TypeVar("T")
MAX_DAYS = 366


@dataclass(frozen=True)
class Period:
    first: date
    last: date  # included

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time.min, UTC)

    @property
    def end(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), time.min, UTC)

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]

    @classmethod
    def ending(cls, last: date, days: int) -> Period:
        return cls(last - timedelta(days=days - 1), last)


class PeriodRefused(ValueError):
    """`code` names the console's error text."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def period_of(first: str, last: str, today: date) -> Period:
    """A period from two ISO dates as typed; empty ones mean the last 30 days ending today."""
    try:
        end = date.fromisoformat(last) if last else today
        start = date.fromisoformat(first) if first else end - timedelta(days=29)
    except ValueError:
        raise PeriodRefused("bad_date") from None
    if start > end:
        raise PeriodRefused("period_reversed")
    if (end - start).days + 1 > MAX_DAYS:
        raise PeriodRefused("period_too_long")
    return Period(start, end)


@dataclass(frozen=True)
class Line:
    """One row of a breakdown: what it is (a day, a method, a plan's name), its currency, the
    number of payments and their sum."""

    key: str
    currency: str
    count: int
    amount: Decimal


@dataclass(frozen=True)
class MoneyReport:
    period: Period
    by_day: list[Line]  # oldest first; days without payments are left out
    by_method: list[Line]
    by_plan: list[Line]
    totals: list[Line]  # per currency ("key" is "total")
    refunds: list[Line]  # per currency
    rewards_count: int
    rewards: Decimal  # RUB earned by referrers in the period
    withdrawals: dict[str, Line]  # status -> requests made in the period (RUB)
    rewards_unpaid: Decimal  # all time: earned minus approved and open withdrawals (RUB)


def _utc_day(session: AsyncSession, column: Any) -> Any:
    # PostgreSQL's date() would follow the connection's time zone; SQLite stores naive UTC.
    if session.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone("UTC", column))
    return func.date(column)


def _lines(rows: Any) -> list[Line]:
    return [
        Line(str(key), str(currency), int(count), Decimal(str(amount)))
        for key, currency, count, amount in rows
    ]


def _paid_in(period: Period) -> Any:
    return Payment.status.in_(PAID), Payment.paid_at >= period.start, Payment.paid_at < period.end


async def _by(session: AsyncSession, period: Period, what: str) -> list[Line]:
    key: Any = {
        "day": _utc_day(session, Payment.paid_at),
        "method": Payment.method,
        "plan": Plan.name,
    }[what]
    query = select(key, Payment.currency, func.count(), func.sum(Payment.amount)).where(*_paid_in(period))
    if what == "plan":
        query = query.join(Plan, Plan.id == Payment.plan_id)
    rows = await session.execute(query.group_by(key, Payment.currency).order_by(key, Payment.currency))
    lines = _lines(rows.all())
    if what == "method":  # the enum's value, not its repr
        return [Line(PaymentMethod(x.key).value, x.currency, x.count, x.amount) for x in lines]
    if what == "day":  # SQLite answers text, PostgreSQL a date
        return [Line(x.key[:10], x.currency, x.count, x.amount) for x in lines]
    return lines


async def _refunds(session: AsyncSession, period: Period) -> list[Line]:
    rows = await session.execute(
        select(Payment.currency, func.count(), func.sum(Payment.amount))
        .where(
            Payment.status == PaymentStatus.REFUNDED,
            Payment.updated_at >= period.start,
            Payment.updated_at < period.end,
        )
        .group_by(Payment.currency)
        .order_by(Payment.currency)
    )
    return _lines(("refunded", currency, count, amount) for currency, count, amount in rows.all())


async def _rewards(session: AsyncSession, period: Period) -> tuple[int, Decimal]:
    count, amount = (
        await session.execute(
            select(func.count(), func.coalesce(func.sum(ReferralReward.amount), 0)).where(
                ReferralReward.created_at >= period.start, ReferralReward.created_at < period.end
            )
        )
    ).one()
    return int(count), Decimal(str(amount))


async def _withdrawals(session: AsyncSession, period: Period) -> dict[str, Line]:
    rows = await session.execute(
        select(Withdrawal.status, func.count(), func.sum(Withdrawal.amount))
        .where(Withdrawal.created_at >= period.start, Withdrawal.created_at < period.end)
        .group_by(Withdrawal.status)
    )
    found = {WithdrawalStatus(status).value: (int(n), Decimal(str(s))) for status, n, s in rows.all()}
    return {
        status.value: Line(status.value, "RUB", *found.get(status.value, (0, Decimal(0))))
        for status in WithdrawalStatus
    }


async def _unpaid(session: AsyncSession) -> Decimal:
    earned = await session.scalar(select(func.coalesce(func.sum(ReferralReward.amount), 0)))
    out = await session.scalar(
        select(func.coalesce(func.sum(Withdrawal.amount), 0)).where(
            Withdrawal.status.in_((WithdrawalStatus.REQUESTED, WithdrawalStatus.APPROVED))
        )
    )
    return Decimal(str(earned)) - Decimal(str(out))


async def _in_session(sessions: SessionFactory, query: Callable[..., Awaitable[T]], *args: Any) -> T:
    async with sessions() as session:
        return await query(session, *args)


def _totals(lines: list[Line]) -> list[Line]:
    totals: dict[str, tuple[int, Decimal]] = {}
    for line in lines:
        count, amount = totals.get(line.currency, (0, Decimal(0)))
        totals[line.currency] = (count + line.count, amount + line.amount)
    return [Line("total", currency, count, amount) for currency, (count, amount) in sorted(totals.items())]


async def money_report(sessions: SessionFactory, period: Period) -> MoneyReport:
    """The queries side by side, one connection each (each an aggregate over indexed columns)."""
    by_day, by_method, by_plan = (
        asyncio.create_task(_in_session(sessions, _by, period, what)) for what in ("day", "method", "plan")
    )
    refunds = asyncio.create_task(_in_session(sessions, _refunds, period))
    rewards = asyncio.create_task(_in_session(sessions, _rewards, period))
    withdrawals = asyncio.create_task(_in_session(sessions, _withdrawals, period))
    unpaid = asyncio.create_task(_in_session(sessions, _unpaid))
    methods = await by_method
    rewards_count, rewarded = await rewards
    return MoneyReport(
        period, await by_day, methods, await by_plan, _totals(methods), await refunds, rewards_count,
        rewarded, await withdrawals, await unpaid,
    )  # fmt: skip
