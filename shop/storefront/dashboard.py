"""The owner's dashboard: money, customers, what needs attention, hosts and the periodic jobs.

Each figure is one aggregate query over the shop's tables (indexed, so the page stays fast at
hundreds of thousands of payments, see bench/console_bench.py); the Schedules' last runs come from
Temporal (`describe()` keeps the recent actions; the run's result holds its counts).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar, cast

from sqlalchemy import and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client, ScheduleActionExecutionStartWorkflow, WorkflowExecutionStatus

from shop.access.reconcile import HostReconcileReport
from shop.customers.stats import AWAITING_DECISION, PAID
from shop.db import SessionFactory
from shop.models import Host, PanelClient, Payment, PaymentMethod, PaymentStatus, Subscription, User, utcnow

T = TypeVar("T")
PERIODS = {"today": None, "7d": timedelta(days=7), "30d": timedelta(days=30)}
SERIES_DAYS = 30
RENEWAL_WINDOW = timedelta(days=7)


@dataclass(frozen=True)
class HostFigure:
    id: int
    name: str
    enabled: bool
    behind: int  # its clients marked for reconciliation (the panel is behind the database)
    up: bool | None  # its last reconciliation reached the panel; None: not reconciled yet
    checked_at: datetime | None


@dataclass(frozen=True)
class Figures:
    now: datetime
    # period -> (method, currency) -> paid amount, for paid and delivered payments by paid_at.
    revenue: dict[str, dict[tuple[PaymentMethod, str], Decimal]]
    paid_active: int
    trial_active: int
    new_customers: dict[str, int]  # period -> customers registered
    trial_takers: int
    trial_converted: int  # of those, customers who have paid since
    renewals_due: int  # paid subscriptions ending in the next 7 days
    to_review: int  # a provider's answer did not match: an operator decides
    p2p_waiting: int  # transfers the customer says they made
    paid_not_delivered: int
    hosts: list[HostFigure]
    # name -> one value per day, oldest first, ending today (UTC).
    series_days: list[date] = field(default_factory=list)
    series: dict[str, list[Decimal]] = field(default_factory=dict)

    @property
    def conversion(self) -> Decimal | None:
        """Trial -> paid, as a percentage with one decimal; None before anyone took a trial."""
        if not self.trial_takers:
            return None
        return (Decimal(100) * self.trial_converted / self.trial_takers).quantize(Decimal("0.1"))

    def revenue_total(self, period: str) -> dict[str, Decimal]:
        """Per currency, all methods together."""
        totals: dict[str, Decimal] = {}
        for (_, currency), amount in self.revenue[period].items():
            totals[currency] = totals.get(currency, Decimal(0)) + amount
        return totals


def _midnight(now: datetime) -> datetime:
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def _since(now: datetime) -> dict[str, datetime]:
    midnight = _midnight(now)
    return {name: midnight if span is None else now - span for name, span in PERIODS.items()}


def _count_if(condition: Any) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _utc_day(session: AsyncSession, column: Any) -> Any:
    # PostgreSQL's date() would follow the connection's time zone; SQLite stores naive UTC.
    if session.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone("UTC", column))
    return func.date(column)


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


async def _revenue(
    session: AsyncSession, since: dict[str, datetime]
) -> dict[str, dict[tuple[PaymentMethod, str], Decimal]]:
    sums = [
        func.coalesce(func.sum(case((Payment.paid_at >= start, Payment.amount), else_=0)), 0)
        for start in since.values()
    ]
    rows = await session.execute(
        select(Payment.method, Payment.currency, *sums)
        .where(Payment.status.in_(PAID), Payment.paid_at >= min(since.values()))
        .group_by(Payment.method, Payment.currency)
    )
    revenue: dict[str, dict[tuple[PaymentMethod, str], Decimal]] = {name: {} for name in since}
    for method, currency, *amounts in rows.all():
        for name, amount in zip(since, amounts, strict=True):
            if amount:
                revenue[name][(PaymentMethod(str(method)), str(currency))] = Decimal(str(amount))
    return revenue


async def _subscriptions(session: AsyncSession, now: datetime) -> tuple[int, int, int]:
    row = (
        await session.execute(
            select(
                _count_if(Subscription.has_paid),
                _count_if(~Subscription.has_paid),
                _count_if(and_(Subscription.has_paid, Subscription.expires_at <= now + RENEWAL_WINDOW)),
            ).where(Subscription.expires_at > now)
        )
    ).one()
    return int(row[0]), int(row[1]), int(row[2])


async def _customers(session: AsyncSession, since: dict[str, datetime]) -> tuple[dict[str, int], int, int]:
    counts = [_count_if(User.created_at >= start) for start in since.values()]
    row = (await session.execute(select(*counts).where(User.created_at >= min(since.values())))).one()
    trial = (
        await session.execute(
            select(func.count(), _count_if(Subscription.has_paid.is_(True)))
            .select_from(User)
            .outerjoin(Subscription, Subscription.user_id == User.id)
            .where(User.trial_used)
        )
    ).one()
    joined = [int(value) for value in cast("tuple[int, ...]", row)]
    return (
        {name: int(value) for name, value in zip(since, joined, strict=True)},
        int(trial[0]),
        int(trial[1] or 0),
    )


async def _attention(session: AsyncSession) -> tuple[int, int, int]:
    row = (
        await session.execute(
            select(
                _count_if(Payment.status == PaymentStatus.REVIEW),
                _count_if(AWAITING_DECISION),
                _count_if(Payment.status == PaymentStatus.SUCCEEDED),
            ).where(
                Payment.status.in_((PaymentStatus.REVIEW, PaymentStatus.PENDING, PaymentStatus.SUCCEEDED))
            )
        )
    ).one()
    return int(row[0]), int(row[1]), int(row[2])


async def _hosts(session: AsyncSession) -> list[HostFigure]:
    marked = await session.execute(
        select(PanelClient.host_id, func.count())
        .where(PanelClient.needs_reconcile)
        .group_by(PanelClient.host_id)
    )
    behind = {host_id: count for host_id, count in marked.all()}
    hosts = await session.execute(
        select(Host.id, Host.name, Host.enabled, Host.last_reconcile_at, Host.last_reconcile_report).order_by(
            Host.sort_order, Host.id
        )
    )
    return [
        HostFigure(
            host_id,
            name,
            enabled,
            int(behind.get(host_id, 0)),
            None if report is None else not HostReconcileReport.model_validate_json(report).errors,
            checked_at,
        )
        for host_id, name, enabled, checked_at, report in hosts.all()
    ]


async def _series(session: AsyncSession, now: datetime) -> tuple[list[date], dict[str, list[Decimal]]]:
    today = _midnight(now)
    start = today - timedelta(days=SERIES_DAYS - 1)
    days = [(start + timedelta(days=n)).date() for n in range(SERIES_DAYS)]
    series: dict[str, dict[date, Decimal]] = {}
    paid_day = _utc_day(session, Payment.paid_at)
    paid = await session.execute(
        select(paid_day, Payment.currency, func.sum(Payment.amount), func.count())
        .where(Payment.status.in_(PAID), Payment.paid_at >= start)
        .group_by(paid_day, Payment.currency)
    )
    for day, currency, amount, count in paid.all():
        series.setdefault(f"revenue:{currency}", {})[_as_date(day)] = Decimal(str(amount))
        payments = series.setdefault("payments", {})
        payments[_as_date(day)] = payments.get(_as_date(day), Decimal(0)) + int(str(count))
    joined_day = _utc_day(session, User.created_at)
    joined = await session.execute(
        select(joined_day, func.count()).where(User.created_at >= start).group_by(joined_day)
    )
    for day, count in joined.all():
        series.setdefault("customers", {})[_as_date(day)] = Decimal(str(count))
    return days, {name: [values.get(day, Decimal(0)) for day in days] for name, values in series.items()}


async def _in_session(sessions: SessionFactory, query: Callable[..., Awaitable[T]], *args: Any) -> T:
    async with sessions() as session:
        return await query(session, *args)


async def figures(sessions: SessionFactory, now: datetime | None = None) -> Figures:
    """Every figure; the queries run side by side, each on its own connection (the page waits for
    the slowest, not for their sum)."""
    now = now or utcnow()
    since = _since(now)
    (
        revenue,
        (paid_active, trial_active, renewals),
        (new, takers, converted),
        attention,
        hosts,
        series,
    ) = await asyncio.gather(
        _in_session(sessions, _revenue, since),
        _in_session(sessions, _subscriptions, now),
        _in_session(sessions, _customers, since),
        _in_session(sessions, _attention),
        _in_session(sessions, _hosts),
        _in_session(sessions, _series, now),
    )
    review, waiting, undelivered = attention
    days, values = series
    return Figures(
        now, revenue, paid_active, trial_active, new, takers, converted, renewals,
        review, waiting, undelivered, hosts, days, values,
    )  # fmt: skip


# The periodic jobs ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScheduleRun:
    schedule_id: str
    workflow: str
    paused: bool
    runs: int  # actions taken since the Schedule was created
    last_started: datetime | None
    last_status: str  # running / completed / failed / ... ("" before the first run)
    counts: dict[str, int]  # what the last finished run reported (numbers, and list lengths)
    next_run: datetime | None


def counts_of(result: Any) -> dict[str, int]:
    """The numbers in a run's result: numbers as they are, lists by their length, nested reports
    (a reconciliation's hosts) summed."""
    counts: dict[str, int] = {}
    if isinstance(result, bool) or result is None:
        return counts
    if isinstance(result, int | float):
        return {"result": int(result)}
    if not isinstance(result, dict):
        return counts
    for key, value in result.items():
        if isinstance(value, bool):
            continue
        if isinstance(value, int | float):
            counts[key] = int(value)
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            for item in value:
                for inner, number in counts_of(item).items():
                    counts[inner] = counts.get(inner, 0) + number
            counts[key] = len(value)
        elif isinstance(value, list):
            counts[key] = len(value)
    return counts


async def _schedule_run(client: Client, schedule_id: str) -> ScheduleRun:
    described = await client.get_schedule_handle(schedule_id).describe()
    action = described.schedule.action
    workflow = getattr(action, "workflow", "")
    recent = described.info.recent_actions
    last = recent[-1] if recent else None
    status, counts, started = "", {}, None
    if last is not None and isinstance(last.action, ScheduleActionExecutionStartWorkflow):
        started = last.started_at
        handle = client.get_workflow_handle(
            last.action.workflow_id, run_id=last.action.first_execution_run_id
        )
        state = (await handle.describe()).status
        status = state.name.lower() if state else ""
        if state is WorkflowExecutionStatus.COMPLETED:
            counts = counts_of(await handle.result())
    upcoming = described.info.next_action_times
    return ScheduleRun(
        schedule_id,
        workflow if isinstance(workflow, str) else getattr(workflow, "__name__", str(workflow)),
        described.schedule.state.paused,
        described.info.num_actions,
        started,
        status,
        counts,
        upcoming[0] if upcoming else None,
    )


async def schedule_runs(client: Client) -> list[ScheduleRun]:
    """Every Schedule of this namespace with its last run (asked side by side); a run still going
    reports no counts yet."""
    ids = sorted([listed.id async for listed in await client.list_schedules()])
    return list(await asyncio.gather(*(_schedule_run(client, schedule_id) for schedule_id in ids)))
