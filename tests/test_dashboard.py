"""The dashboard's figures equal what the seeded shop holds (counted here in Python from the rows
that were inserted, not by asking the database again), on SQLite and PostgreSQL; and the
Schedules' last runs with their counts, from a real Temporal server."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionExecutionStartWorkflow,
    ScheduleActionStartWorkflow,
    ScheduleIntervalSpec,
    ScheduleSpec,
)

from shop.context import AppContext
from shop.models import PaymentMethod, PaymentStatus, utcnow
from shop.storefront.dashboard import Dashboard, counts_of, figures, schedule_runs
from tests.conftest import Database
from tests.shop_seed import generate, insert_seeded
from workflows.expiry import ReminderCleanupInput, ReminderCleanupWorkflow

NOW = datetime(2026, 12, 7, 15, 30, tzinfo=UTC)
PAID = (PaymentStatus.SUCCEEDED, PaymentStatus.DELIVERED)


async def test_figures_equal_the_seeded_shop(db: Database) -> None:
    shop = generate(NOW, customers=400, payments=1500)
    await insert_seeded(db.sessions, shop)
    got = await figures(db.sessions, NOW)

    midnight = NOW.replace(hour=0, minute=0)
    # UTC calendar days, today included: the same days as the charts.
    starts = {"today": midnight, "7d": midnight - timedelta(days=6), "30d": midnight - timedelta(days=29)}
    for period, start in starts.items():
        expected: dict[tuple[PaymentMethod, str], Decimal] = {}
        for p in shop.payments:
            # Balance payments spend money counted at the top-up: not revenue again.
            if p["status"] in PAID and p["paid_at"] >= start and p["method"] is not PaymentMethod.BALANCE:
                key = (p["method"], p["currency"])
                expected[key] = expected.get(key, Decimal(0)) + p["amount"]
        assert got.revenue[period] == expected, period
        assert got.new_customers[period] == sum(u["created_at"] >= start for u in shop.users), period
    assert len(got.revenue["30d"]) == 4 and got.revenue["today"]  # the seed covers every method

    live = [s for s in shop.subscriptions if s["expires_at"] > NOW]
    assert got.paid_active == sum(s["has_paid"] for s in live)
    assert got.trial_active == sum(not s["has_paid"] for s in live)
    assert got.renewals_due == sum(s["has_paid"] and s["expires_at"] <= NOW + timedelta(days=7) for s in live)
    paid_users = {s["user_id"] for s in shop.subscriptions if s["has_paid"]}
    takers = [u["id"] for u in shop.users if u["trial_used"]]
    assert (got.trial_takers, got.trial_converted) == (len(takers), len(paid_users & set(takers)))
    assert got.conversion == (Decimal(100) * got.trial_converted / got.trial_takers).quantize(Decimal("0.1"))

    assert got.to_review == sum(p["status"] is PaymentStatus.REVIEW for p in shop.payments)
    assert got.p2p_waiting == sum(
        p["method"] is PaymentMethod.P2P and p["status"] is PaymentStatus.PENDING and p["transfer_claimed_at"]
        is not None for p in shop.payments
    )  # fmt: skip
    assert got.paid_not_delivered == sum(p["status"] is PaymentStatus.SUCCEEDED for p in shop.payments)

    behind = {
        h["id"]: sum(c["needs_reconcile"] for c in shop.clients if c["host_id"] == h["id"])
        for h in shop.hosts
    }
    assert [(h.name, h.enabled, h.behind) for h in got.hosts] == [
        (h["name"], h["enabled"], behind[h["id"]]) for h in shop.hosts
    ]
    assert [(h.up, h.checked_at) for h in got.hosts] == [(True, NOW), (False, NOW), (None, None)]
    assert sum(behind.values()) > 0

    # The 30-day series: one value per UTC day, ending today, adding up to the 30-day window.
    assert len(got.series_days) == 30 and got.series_days[-1] == NOW.date()
    first = datetime.combine(got.series_days[0], datetime.min.time(), UTC)
    money = [p for p in shop.payments if p["method"] is not PaymentMethod.BALANCE]  # see the revenue above
    rub = [p for p in money if p["status"] in PAID and p["currency"] == "RUB" and p["paid_at"] >= first]
    assert sum(got.series["revenue:RUB"]) == sum(p["amount"] for p in rub)
    today_rub = sum(p["amount"] for p in rub if p["paid_at"] >= midnight)
    assert got.series["revenue:RUB"][-1] == today_rub
    assert sum(got.series["customers"]) == sum(u["created_at"] >= first for u in shop.users)
    paid_count = sum(p["status"] in PAID and p["paid_at"] >= first for p in money)
    assert sum(got.series["payments"]) == paid_count


async def test_the_dashboard_keeps_its_figures_until_they_are_old_or_asked_fresh(db: Database) -> None:
    dashboard = Dashboard(db.sessions, None, max_age=3600)
    first, runs = await dashboard.current()
    assert first.trial_takers == 0 and runs is None  # no Temporal client: no runs, no error
    await insert_seeded(db.sessions, generate(utcnow(), customers=20, payments=10))
    assert (await dashboard.current())[0] is first  # within max_age: the same computation
    fresh, _ = await dashboard.current(fresh=True)
    assert fresh is not first and fresh.trial_takers > 0
    again, _ = await Dashboard(db.sessions, None, max_age=0).current()
    assert again == replace(fresh, now=again.now)


async def test_an_empty_shop_has_zeroes_not_errors(db: Database) -> None:
    got = await figures(db.sessions, NOW)
    assert got.revenue == {"today": {}, "7d": {}, "30d": {}}
    assert (got.paid_active, got.trial_active, got.renewals_due, got.trial_takers) == (0, 0, 0, 0)
    assert got.conversion is None and got.hosts == [] and got.series == {}
    assert len(got.series_days) == 30


def test_a_runs_result_becomes_counts() -> None:
    assert counts_of({"sent": 3, "failed": 0, "skipped": 1, "blocked": 0, "claimed": 4}) == {
        "sent": 3, "failed": 0, "skipped": 1, "blocked": 0, "claimed": 4,
    }  # fmt: skip
    assert counts_of({"signaled": ["a", "b"], "late": [], "errors": ["x"]}) == {
        "signaled": 2,
        "late": 0,
        "errors": 1,
    }
    reconcile = {
        "hosts": [
            {"host_id": 1, "checked": 5, "errors": []},
            {"host_id": 2, "checked": 7, "errors": ["down"]},
        ]
    }
    assert counts_of(reconcile) == {"hosts": 2, "host_id": 3, "checked": 12, "errors": 1}
    assert counts_of(17) == {"result": 17} and counts_of(None) == {} and counts_of(True) == {}


async def test_the_last_schedule_run_and_its_counts(
    running_worker: AppContext, temporal_client: Client
) -> None:
    schedule_id = f"dashboard-test-{uuid.uuid4().hex[:8]}"
    handle = await temporal_client.create_schedule(
        schedule_id,
        Schedule(
            action=ScheduleActionStartWorkflow(
                ReminderCleanupWorkflow.run,
                ReminderCleanupInput(keep_days=90),
                id=f"{schedule_id}-run",
                task_queue=running_worker.settings.temporal_task_queue,
            ),
            spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=timedelta(hours=1))]),
        ),
    )
    try:
        await handle.trigger()
        described = await handle.describe()
        while not described.info.recent_actions:  # the trigger is taken asynchronously
            await asyncio.sleep(0.05)
            described = await handle.describe()
        run = described.info.recent_actions[-1].action
        assert isinstance(run, ScheduleActionExecutionStartWorkflow)
        await temporal_client.get_workflow_handle(run.workflow_id, run_id=run.first_execution_run_id).result()
        runs = {r.schedule_id: r for r in await schedule_runs(temporal_client)}
        mine = runs[schedule_id]
        assert (mine.workflow, mine.runs, mine.last_status, mine.counts) == (
            "ReminderCleanupWorkflow", 1, "completed", {"result": 0},  # nothing to delete
        )  # fmt: skip
        assert mine.last_started is not None and mine.next_run is not None and not mine.paused
    finally:
        await handle.delete()
