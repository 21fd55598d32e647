"""The figures the shop's own records hold, read when `/metrics` is scraped (and by the dashboard):
the same answer from every process, nothing lost by a restart.

- payments by method and status (a payment moves between statuses: a gauge per pair);
- paid but not delivered now (status `succeeded`: money taken, access not yet given);
- time from payment to delivered access (`paid_at` -> `delivered_at`) as a cumulative histogram
  over every delivered payment: it only grows, so Prometheus' rate() and histogram_quantile() work;
- reminders by outcome (the reminders on record: the cleanup job deletes old ones, so a gauge).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncSession

from shop.db import SessionFactory
from shop.models import Payment, PaymentStatus, Reminder

# Seconds from payment to access: a healthy shop delivers within seconds, a panel outage in minutes.
BUCKETS = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0, 3600.0)


@dataclass(frozen=True)
class DeliveryTimes:
    buckets: list[tuple[float, int]]  # (upper bound, payments delivered within it), cumulative
    count: int
    total_seconds: float

    def quantile(self, q: float) -> float | None:
        """The q-quantile estimated from the buckets as Prometheus' histogram_quantile() does
        (linear within the bucket); None before any delivery; the last bound when beyond it."""
        if not self.count:
            return None
        rank = q * self.count
        lower, below = 0.0, 0
        for bound, within in self.buckets:
            if within >= rank:
                share = (rank - below) / (within - below) if within > below else 1.0
                return lower + (bound - lower) * share
            lower, below = bound, within
        return self.buckets[-1][0]


@dataclass(frozen=True)
class Records:
    payments: dict[tuple[str, str], int]  # (method, status) -> payments
    paid_not_delivered: int
    delivery: DeliveryTimes
    reminders: dict[str, int]  # status -> reminders on record


async def _payments(session: AsyncSession) -> dict[tuple[str, str], int]:
    rows = await session.execute(
        select(Payment.method, Payment.status, func.count()).group_by(Payment.method, Payment.status)
    )
    return {(str(method.value), str(status.value)): int(n) for method, status, n in rows.all()}


def _delivery_columns(session: AsyncSession) -> list[Any]:
    """count, total seconds, then the payments within each bucket (cumulative), in one pass."""
    if session.get_bind().dialect.name == "postgresql":
        # Timestamp arithmetic per row, one epoch at the end: extract() on every row's interval
        # made this query twice as slow at 300,000 payments (bench/console_bench.py).
        return [
            func.count(),
            func.coalesce(func.extract("epoch", func.sum(Payment.delivered_at - Payment.paid_at)), 0),
            *(
                func.count().filter(
                    Payment.delivered_at <= Payment.paid_at + literal_column(f"interval '{bound:g} seconds'")
                )
                for bound in BUCKETS  # constants of this module: nothing typed reaches the SQL
            ),
        ]
    seconds = (func.julianday(Payment.delivered_at) - func.julianday(Payment.paid_at)) * 86400.0
    return [
        func.count(),
        func.coalesce(func.sum(seconds), 0),
        *(func.count().filter(seconds <= bound) for bound in BUCKETS),
    ]


async def _delivery(session: AsyncSession) -> DeliveryTimes:
    row = (
        await session.execute(
            select(*_delivery_columns(session)).where(
                Payment.delivered_at.is_not(None), Payment.paid_at.is_not(None)
            )
        )
    ).one()
    count, total, *within = (str(value) for value in row)
    return DeliveryTimes(
        [(bound, int(n)) for bound, n in zip(BUCKETS, within, strict=True)],
        int(count),
        float(Decimal(total)),
    )


async def _reminders(session: AsyncSession) -> dict[str, int]:
    rows = await session.execute(select(Reminder.status, func.count()).group_by(Reminder.status))
    return {str(status.value): int(n) for status, n in rows.all()}


async def _in(sessions: SessionFactory, query: Any) -> Any:
    async with sessions() as session:
        return await query(session)


async def records(sessions: SessionFactory) -> Records:
    payments, delivery, reminders = await asyncio.gather(
        _in(sessions, _payments), _in(sessions, _delivery), _in(sessions, _reminders)
    )
    undelivered = sum(n for (_, status), n in payments.items() if status == PaymentStatus.SUCCEEDED.value)
    return Records(payments, undelivered, delivery, reminders)
