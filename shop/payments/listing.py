"""The console's payment list: filters (status, method, dates, amount, customer), totals per
currency for the whole filter, newest first, paged by keyset on (created_at, id)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import ColumnElement, and_, false, func, literal, select, tuple_

from shop.db import SessionFactory
from shop.models import Payment, PaymentMethod, PaymentStatus, Plan, UTCDateTime
from shop.operators.forms import Invalid

PAGE = 50
# Beyond the stored statuses, the dashboard's groups.
PAID = "paid"  # money taken: succeeded or delivered
P2P_WAITING = "p2p_waiting"  # a transfer the customer says they made, waiting for an operator
STATUSES = (*[s.value for s in PaymentStatus], PAID, P2P_WAITING)


@dataclass(frozen=True)
class Filters:
    status: str = ""
    method: str = ""
    since: date | None = None  # created on or after (UTC day)
    until: date | None = None  # created on or before
    amount_min: Decimal | None = None
    amount_max: Decimal | None = None
    customer: int | None = None


@dataclass(frozen=True)
class Row:
    id: str
    user_id: int
    plan: str
    method: PaymentMethod
    amount: Decimal
    currency: str
    status: PaymentStatus
    created_at: datetime
    paid_at: datetime | None


@dataclass(frozen=True)
class Page:
    rows: list[Row]
    next_after: str | None
    # Over the whole filter, when asked for: an aggregate over up to every payment, so the list
    # itself never waits for it.
    count: int | None = None
    totals: list[tuple[str, Decimal]] | None = None  # per currency


def _day(value: str, field: str) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        raise Invalid({field: "invalid"}) from None


def _amount(value: str, field: str) -> Decimal | None:
    try:
        amount = Decimal(value) if value else None
    except InvalidOperation:
        raise Invalid({field: "invalid"}) from None
    if amount is not None and (not amount.is_finite() or amount < 0):
        raise Invalid({field: "invalid"})
    return amount


def parse(values: dict[str, str]) -> Filters:
    """The query string as filters; each bad value refused beside its field."""
    status, method = values.get("status", ""), values.get("method", "")
    if status and status not in STATUSES:
        raise Invalid({"status": "invalid"})
    if method and method not in {m.value for m in PaymentMethod}:
        raise Invalid({"method": "invalid"})
    customer = values.get("customer", "").strip()
    if customer and not customer.lstrip("-").isdigit():
        raise Invalid({"customer": "integer"})
    return Filters(
        status=status,
        method=method,
        since=_day(values.get("since", ""), "since"),
        until=_day(values.get("until", ""), "until"),
        amount_min=_amount(values.get("amount_min", ""), "amount_min"),
        amount_max=_amount(values.get("amount_max", ""), "amount_max"),
        customer=int(customer) if customer else None,
    )


def _status(status: str) -> ColumnElement[bool] | None:
    if status == PAID:
        return Payment.status.in_([PaymentStatus.SUCCEEDED, PaymentStatus.DELIVERED])
    if status == P2P_WAITING:
        return and_(
            Payment.method == PaymentMethod.P2P,
            Payment.status == PaymentStatus.PENDING,
            Payment.transfer_claimed_at.is_not(None),
        )
    return Payment.status == PaymentStatus(status) if status else None


def conditions(filters: Filters) -> list[ColumnElement[bool]]:
    found: list[ColumnElement[bool] | None] = [_status(filters.status)]
    if filters.method:
        found.append(Payment.method == PaymentMethod(filters.method))
    start = datetime.combine(filters.since, time(), tzinfo=UTC) if filters.since else None
    end = datetime.combine(filters.until + timedelta(days=1), time(), tzinfo=UTC) if filters.until else None
    if start is not None:
        found.append(Payment.created_at >= start)
    if end is not None:
        found.append(Payment.created_at < end)
    if filters.amount_min is not None:
        found.append(Payment.amount >= filters.amount_min)
    if filters.amount_max is not None:
        found.append(Payment.amount <= filters.amount_max)
    if filters.customer is not None:
        found.append(Payment.user_id == filters.customer)
    return [condition for condition in found if condition is not None]


async def payments(
    sessions: SessionFactory, filters: Filters, after: str = "", limit: int = PAGE, totals: bool = False
) -> Page:
    where = conditions(filters)
    query: Any = (
        select(
            Payment.id,
            Payment.user_id,
            Plan.name.label("plan"),
            Payment.method,
            Payment.amount,
            Payment.currency,
            Payment.status,
            Payment.created_at,
            Payment.paid_at,
        )
        .join(Plan, Plan.id == Payment.plan_id)
        .where(*where)
        .order_by(Payment.created_at.desc(), Payment.id.desc())
        .limit(limit + 1)
    )
    if after:
        moment, _, key = after.rpartition("_")
        try:
            cursor = (datetime.fromisoformat(moment), key)
        except ValueError:
            cursor = None
        query = query.where(
            false()
            if cursor is None
            else tuple_(Payment.created_at, Payment.id)
            < tuple_(literal(cursor[0], UTCDateTime()), literal(cursor[1]))
        )
    totals_query = (
        select(Payment.currency, func.count(), func.coalesce(func.sum(Payment.amount), 0))
        .where(*where)
        .group_by(Payment.currency)
        .order_by(Payment.currency)
    )
    async with sessions() as session:
        fetched = (await session.execute(query)).all()
        summed = (await session.execute(totals_query)).all() if totals else None
    rows = [Row(**row._asdict()) for row in fetched[:limit]]
    last = rows[-1] if rows else None
    next_after = f"{last.created_at.isoformat()}_{last.id}" if last and len(fetched) > limit else None
    if summed is None:
        return Page(rows, next_after)
    count = sum(int(count) for _, count, _ in summed)
    return Page(rows, next_after, count, [(currency, Decimal(total)) for currency, _, total in summed])
