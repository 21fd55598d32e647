"""Access ends on time on every panel, comes back on renewal; the Schedules that drive it are
created once and survive a Temporal server restart; a failing scan activity is retried."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

from sqlalchemy import update
from temporalio.client import Client, ScheduleActionExecutionStartWorkflow, ScheduleActionResult

from bot.main import build_bot
from sandbox.panel import SandboxPanel
from shop.access import ledger
from shop.context import AppContext
from shop.db import create_engine, session_factory
from shop.models import GrantKind, Host, Subscription, User
from shop.runtime.migrate import upgrade
from shop.runtime.temporal import EmbeddedTemporal, connect, free_port
from shop.settings import load_settings
from tests.factories import subscriber
from tests.panel_fixtures import StartPanel, add_sandbox_host
from tests.polling import eventually
from worker.main import build_worker
from worker.schedules import EXPIRY_SCAN_ID, SCHEDULES, ensure_schedules
from workflows.expiry import (
    CloseEndedAccessInput,
    CloseEndedAccessReport,
    CloseEndedAccessWorkflow,
    ExpiryScanInput,
    ExpiryScanReport,
    ExpiryScanWorkflow,
)
from workflows.provision import ProvisionInput, ProvisionSubscriptionWorkflow


async def _provision(ctx: AppContext, subscription_id: int, trigger: str) -> None:
    assert ctx.temporal is not None
    await ctx.temporal.execute_workflow(
        ProvisionSubscriptionWorkflow.run,
        ProvisionInput(subscription_id=subscription_id),
        id=f"provision:{subscription_id}:{trigger}",
        task_queue=ctx.settings.temporal_task_queue,
    )


async def _close(ctx: AppContext, run: str) -> CloseEndedAccessReport:
    assert ctx.temporal is not None
    return await ctx.temporal.execute_workflow(
        CloseEndedAccessWorkflow.run,
        CloseEndedAccessInput(),
        id=f"close-ended-access:{ctx.settings.temporal_task_queue}:{run}",
        task_queue=ctx.settings.temporal_task_queue,
    )


def _only_client(panel: SandboxPanel) -> dict[str, object]:
    [client] = panel.clients()
    return client


async def _expires_ms(ctx: AppContext, subscription_id: int) -> int:
    async with ctx.sessions() as session:
        stored = await session.get(Subscription, subscription_id)
    assert stored is not None and stored.expires_at is not None
    return int(stored.expires_at.timestamp() * 1000)


async def test_expired_access_is_closed_on_every_panel_and_renewal_reopens_it(
    panel_worker: AppContext, start_panel: StartPanel
) -> None:
    ctx = panel_worker
    panels = [await start_panel(version="v2"), await start_panel(version="v3.1")]
    for number, panel in enumerate(panels):
        await add_sandbox_host(ctx, panel, name=f"host{number}")
    sub = await subscriber(ctx.sessions)
    await ledger.grant(ctx.sessions, sub.id, "payment:first", timedelta(days=30), GrantKind.PURCHASE, "t")
    await _provision(ctx, sub.id, "payment:first")
    assert [_only_client(panel)["enable"] for panel in panels] == [True, True]

    # The time runs out (a refund brings the expiry to now): the next pass closes it everywhere.
    await ledger.grant(ctx.sessions, sub.id, "refund:r1", -timedelta(days=31), GrantKind.REFUND, "t")
    report = await _close(ctx, "1")
    assert (report.subscriptions, report.closed, report.left_to_reconcile) == (1, 1, 0)
    expiry = await _expires_ms(ctx, sub.id)
    for panel in panels:
        client = _only_client(panel)
        assert client["enable"] is False and client["expiryTime"] == expiry
    assert (await _close(ctx, "2")).subscriptions == 0, "a closed subscription is not found again"

    # A renewal re-enables on the same clients, with the new absolute expiry.
    await ledger.grant(ctx.sessions, sub.id, "payment:renew", timedelta(days=30), GrantKind.PURCHASE, "t")
    await _provision(ctx, sub.id, "payment:renew")
    expiry = await _expires_ms(ctx, sub.id)
    for panel in panels:
        client = _only_client(panel)
        assert client["enable"] is True and client["expiryTime"] == expiry

    # A ban closes access even though time is left.
    async with ctx.sessions() as session, session.begin():
        await session.execute(update(User).where(User.id == sub.user_id).values(banned=True))
    assert (await _close(ctx, "3")).closed == 1
    assert [_only_client(panel)["enable"] for panel in panels] == [False, False]

    # An unban that never reached the panels (Temporal was down) is caught up by the same pass, on
    # enabled hosts only: a switched-off host is not provisioned, so it must not be found each time.
    async with ctx.sessions() as session, session.begin():
        await session.execute(update(User).where(User.id == sub.user_id).values(banned=False))
        await session.execute(update(Host).where(Host.name == "host1").values(enabled=False))
    assert (await _close(ctx, "4")).closed == 1
    assert [_only_client(panel)["enable"] for panel in panels] == [True, False]
    assert (await _close(ctx, "5")).subscriptions == 0


async def test_schedules_are_created_once_and_continue_after_a_server_restart(tmp_path: Path) -> None:
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'shop.db'}"
    await upgrade(database_url)
    settings = load_settings(
        _env_file=None, database_url=database_url, temporal_address="x", temporal_task_queue="restart"
    )
    server = EmbeddedTemporal(free_port(), None, "vpnshop", db_file=tmp_path / "temporal.db")
    server.start()
    try:
        client = await connect(server.address, "vpnshop")
        ids = await ensure_schedules(client, settings)
        assert ids == [definition.schedule_id for definition in SCHEDULES]
        assert await ensure_schedules(client, settings) == ids  # a second worker changes nothing
        listed = [entry.id async for entry in await client.list_schedules()]
        assert sorted(listed) == sorted(ids)
    finally:
        server.stop()

    server = EmbeddedTemporal(free_port(), None, "vpnshop", db_file=tmp_path / "temporal.db")
    server.start()
    engine = create_engine(database_url)
    try:
        client = await connect(server.address, "vpnshop")
        handle = client.get_schedule_handle(EXPIRY_SCAN_ID)
        described = await handle.describe()
        assert described.info.next_action_times, "the schedule must still be planned after a restart"
        ctx = AppContext(settings, engine, session_factory(engine), client)
        async with build_worker(ctx, client):
            await handle.trigger()

            async def started() -> Sequence[ScheduleActionResult]:
                return (await handle.describe()).info.recent_actions

            run = (await eventually(started))[-1].action
            assert isinstance(run, ScheduleActionExecutionStartWorkflow)
            result = await client.get_workflow_handle_for(ExpiryScanWorkflow.run, run.workflow_id).result()
        assert isinstance(result, ExpiryScanReport) and not result.telegram_configured
    finally:
        await engine.dispose()
        server.stop()


async def test_a_failing_scan_activity_is_retried_until_it_succeeds(
    tmp_path: Path, temporal_client: Client, task_queue: str
) -> None:
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'late.db'}"
    settings = load_settings(
        _env_file=None,
        database_url=database_url,
        temporal_address="x",
        temporal_task_queue=task_queue,
        telegram_bot_token="1:sandbox",
    )
    engine = create_engine(database_url)
    ctx = AppContext(settings, engine, session_factory(engine), temporal_client)
    bot = build_bot(settings)
    try:
        async with build_worker(ctx, temporal_client, bot=bot):
            # The database has no tables yet: every claim attempt fails until it is migrated.
            handle = await temporal_client.start_workflow(
                ExpiryScanWorkflow.run,
                ExpiryScanInput(),
                id=f"scan-retry:{task_queue}",
                task_queue=task_queue,
            )

            async def failed_once() -> bool:
                pending = (await handle.describe()).raw_description.pending_activities
                return bool(pending) and pending[0].attempt >= 2

            await eventually(failed_once)
            await upgrade(database_url)
            result = await asyncio.wait_for(handle.result(), 30)
        assert result.claimed == 0 and result.telegram_configured
    finally:
        await bot.session.close()
        await engine.dispose()
