"""The owner's dashboard: money, customers, what needs attention, hosts and the periodic jobs.

Each figure is one aggregate query over the shop's tables (indexed, so the page stays fast at
hundreds of thousands of payments, see bench/console_bench.py); the Schedules' last runs come from
Temporal (`describe()` keeps the recent actions; the run's result holds its counts).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from time import monotonic
from typing import Any, TypeVar

from sqlalchemy import and_, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client, ScheduleActionExecutionStartWorkflow, WorkflowExecutionStatus
from temporalio.service import RPCError

from shop.access.reconcile import HostReconcileReport
from shop.customers.stats import PAID
from shop.db import SessionFactory
from shop.metrics.records import Records, records
from shop.models import (
    NEEDS_ATTENTION,
    Host,
    PanelClient,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Subscription,
    User,
    utcnow,
)

T = TypeVar("T")
log = logging.getLogger(__name__)
SCHEDULES_TIMEOUT = 3.0  # the figures show even when Temporal is slow or down
DAYS = 30
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
    # period ("today", "7d", "30d": UTC calendar days, today included) -> (method, currency) -> the
    # paid and delivered payments' amount, by the day they were paid.
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
    # What /metrics reads from the records: delivery times, payments and reminders by outcome.
    service: Records | None = None

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


def _count_if(condition: Any) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _utc_day(session: AsyncSession, column: Any) -> Any:
    # PostgreSQL's date() would follow the connection's time zone; SQLite stores naive UTC.
    if session.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone("UTC", column))
    return func.date(column)


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def window(now: datetime) -> list[date]:
    """The dashboard's days: the last 30 UTC calendar days, today last."""
    today = now.date()
    return [today - timedelta(days=DAYS - 1 - n) for n in range(DAYS)]


def _start(days: list[date]) -> datetime:
    return datetime.combine(days[0], time.min, UTC)


async def _paid_by_day(
    session: AsyncSession, days: list[date]
) -> list[tuple[date, PaymentMethod, str, Decimal, int]]:
    """Paid and delivered payments per UTC day, method and currency: one pass over the window
    gives the revenue figures and the charts alike."""
    day = _utc_day(session, Payment.paid_at)
    rows = await session.execute(
        select(day, Payment.method, Payment.currency, func.sum(Payment.amount), func.count())
        .where(Payment.status.in_(PAID), Payment.paid_at >= _start(days))
        .group_by(day, Payment.method, Payment.currency)
    )
    return [
        (_as_date(d), PaymentMethod(str(method)), str(currency), Decimal(str(amount)), int(str(count)))
        for d, method, currency, amount, count in rows.all()
    ]


async def _joined_by_day(session: AsyncSession, days: list[date]) -> dict[date, int]:
    day = _utc_day(session, User.created_at)
    rows = await session.execute(
        select(day, func.count()).where(User.created_at >= _start(days)).group_by(day)
    )
    return {_as_date(d): int(str(count)) for d, count in rows.all()}


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


async def _trials(session: AsyncSession) -> tuple[int, int]:
    """Customers who took the trial, and those of them who have paid since."""
    takers = await session.scalar(select(func.count()).select_from(User).where(User.trial_used))
    converted = await session.scalar(
        select(func.count())
        .select_from(Subscription)
        .join(User, User.id == Subscription.user_id)
        .where(Subscription.has_paid, User.trial_used)
    )
    return int(takers or 0), int(converted or 0)


async def _attention(session: AsyncSession) -> tuple[int, int, int]:
    # NEEDS_ATTENTION is also the predicate of a partial index: these few rows, not all payments.
    row = (
        await session.execute(
            select(
                _count_if(Payment.status == PaymentStatus.REVIEW),
                _count_if(Payment.status == PaymentStatus.PENDING),
                _count_if(Payment.status == PaymentStatus.SUCCEEDED),
            ).where(NEEDS_ATTENTION)
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


async def _in_session(sessions: SessionFactory, query: Callable[..., Awaitable[T]], *args: Any) -> T:
    async with sessions() as session:
        return await query(session, *args)


def _periods(days: list[date]) -> dict[str, date]:
    """Each period's first day: today, the last 7 days, the last 30 (the charts' days)."""
    return {"today": days[-1], "7d": days[-7], "30d": days[0]}


async def figures(sessions: SessionFactory, now: datetime | None = None) -> Figures:
    """Every figure; the queries run side by side, each on its own connection (the page waits for
    the slowest, not for their sum)."""
    now = now or utcnow()
    days = window(now)
    service = asyncio.create_task(records(sessions))
    (
        paid,
        joined,
        (paid_active, trial_active, renewals),
        (takers, converted),
        attention,
        hosts,
    ) = await asyncio.gather(
        _in_session(sessions, _paid_by_day, days),
        _in_session(sessions, _joined_by_day, days),
        _in_session(sessions, _subscriptions, now),
        _in_session(sessions, _trials),
        _in_session(sessions, _attention),
        _in_session(sessions, _hosts),
    )

    periods = _periods(days)
    revenue: dict[str, dict[tuple[PaymentMethod, str], Decimal]] = {name: {} for name in periods}
    series: dict[str, dict[date, Decimal]] = {}
    for day, method, currency, amount, count in paid:
        for name, first in periods.items():
            if day >= first:
                revenue[name][(method, currency)] = revenue[name].get((method, currency), Decimal(0)) + amount
        by_currency = series.setdefault(f"revenue:{currency}", {})
        by_currency[day] = by_currency.get(day, Decimal(0)) + amount
        payments = series.setdefault("payments", {})
        payments[day] = payments.get(day, Decimal(0)) + count
    if joined:
        series["customers"] = {day: Decimal(count) for day, count in joined.items()}
    new = {
        name: sum(count for day, count in joined.items() if day >= first) for name, first in periods.items()
    }
    review, waiting, undelivered = attention
    return Figures(
        now, revenue, paid_active, trial_active, new, takers, converted, renewals,
        review, waiting, undelivered, hosts, days,
        {name: [values.get(day, Decimal(0)) for day in days] for name, values in series.items()},
        await service,
    )  # fmt: skip


class Dashboard:
    """The figures and the Schedules' runs, kept for `max_age` seconds per process: at 100,000
    customers and 300,000 payments one computation reads tens of thousands of rows and asks
    Temporal about every Schedule (see bench/console_bench.py), so operators reloading the page
    share one, and concurrent requests wait for the same one. The page says how old they are and
    can ask for fresh ones."""

    def __init__(self, sessions: SessionFactory, client: Client | None, max_age: float) -> None:
        self.sessions = sessions
        self.client = client
        self.max_age = max_age
        self._lock = asyncio.Lock()
        self._kept: tuple[float, Figures, list[ScheduleRun] | None] | None = None

    async def current(self, fresh: bool = False) -> tuple[Figures, list[ScheduleRun] | None]:
        """The figures and the runs (None when Temporal is not connected or does not answer)."""
        asked = monotonic()
        async with self._lock:
            kept = self._kept
            # Computed after this request arrived: fresh enough even when `fresh` was asked.
            if kept is not None and (kept[0] >= asked or (not fresh and asked - kept[0] < self.max_age)):
                return kept[1], kept[2]
            computed, runs = await asyncio.gather(figures(self.sessions), self._runs())
            self._kept = (monotonic(), computed, runs)
            return computed, runs

    async def _runs(self) -> list[ScheduleRun] | None:
        if self.client is None:
            return None
        try:
            return await asyncio.wait_for(schedule_runs(self.client), SCHEDULES_TIMEOUT)
        except (RPCError, TimeoutError) as error:
            log.warning("dashboard: schedules unavailable: %s", error)
            return None


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
