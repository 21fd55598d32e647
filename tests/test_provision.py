"""Provisioning through Temporal onto sandbox panels: grants, renewals, bans, outages, races."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import pytest
from sqlalchemy import select, update
from temporalio.client import Client

from sandbox.panel import V2, V3_0, V3_1, VERSIONS, SandboxPanel
from shop.access import ledger
from shop.access.provisioning import expiry_ms
from shop.context import AppContext
from shop.models import GrantKind, Host, PanelClient, Subscription, User, utcnow
from tests.factories import subscriber
from tests.panel_fixtures import StartPanel, add_sandbox_host
from workflows.grant import GrantAccessInput, GrantAccessWorkflow, grant_workflow_id
from workflows.provision import (
    ProvisionInput,
    ProvisionResult,
    ProvisionSubscriptionWorkflow,
    provision_workflow_id,
)
from workflows.reconcile import ReconcileInput, ReconcilePanelsWorkflow


async def provision(
    client: Client, queue: str, sub_id: int, trigger: str, **extra: object
) -> ProvisionResult:
    return await client.execute_workflow(
        ProvisionSubscriptionWorkflow.run,
        ProvisionInput(subscription_id=sub_id, **extra),
        id=provision_workflow_id(sub_id, f"{trigger}-{queue}"),
        task_queue=queue,
    )


async def expires(ctx: AppContext, sub_id: int) -> int:
    async with ctx.sessions() as session:
        found = await session.get(Subscription, sub_id)
        assert found is not None
        return expiry_ms(found.expires_at)


async def rows(ctx: AppContext, sub_id: int) -> list[PanelClient]:
    async with ctx.sessions() as session:
        return list(await session.scalars(select(PanelClient).where(PanelClient.subscription_id == sub_id)))


async def one_paid_host(
    ctx: AppContext, start_panel: StartPanel, version: str
) -> tuple[SandboxPanel, Host, Subscription]:
    panel = await start_panel(version=version)
    host = await add_sandbox_host(ctx, panel)
    sub = await subscriber(ctx.sessions)
    await ledger.grant(ctx.sessions, sub.id, "pay:1", timedelta(days=30), GrantKind.PURCHASE, "test")
    return panel, host, sub


async def test_grant_provisions_every_host_and_a_rerun_changes_nothing(
    panel_worker: AppContext, temporal_client: Client, task_queue: str, start_panel: StartPanel
) -> None:
    ctx = panel_worker
    panels = [await start_panel(version=v) for v in VERSIONS]
    for panel in panels:
        await add_sandbox_host(ctx, panel)
    sub = await subscriber(ctx.sessions)
    result = await temporal_client.execute_workflow(
        GrantAccessWorkflow.run,
        GrantAccessInput(
            subscription_id=sub.id,
            source_key=f"trial:{task_queue}",
            seconds=3 * 86400,
            kind=GrantKind.TRIAL,
            actor="test",
        ),
        id=grant_workflow_id(f"trial:{task_queue}"),
        task_queue=task_queue,
    )
    assert [h.status for h in result.provisioning.hosts] == ["created"] * len(VERSIONS)
    wanted = await expires(ctx, sub.id)
    for panel in panels:
        [client] = panel.clients()
        assert client["expiryTime"] == wanted and client["enable"] is True
    cached = await rows(ctx, sub.id)
    assert len(cached) == len(VERSIONS) and all(
        r.link.startswith("vless://") and r.expiry_written for r in cached
    )

    stamps = [panel.clients()[0]["updated_at"] for panel in panels]
    calls = [panel.calls for panel in panels]
    again = await provision(temporal_client, task_queue, sub.id, "again")
    assert [h.status for h in again.hosts] == ["unchanged"] * len(VERSIONS)
    assert [panel.clients()[0]["updated_at"] for panel in panels] == stamps
    # The links are the customer's VPN credentials: in the database, never in a workflow history.
    for run in (
        grant_workflow_id(f"trial:{task_queue}"),
        provision_workflow_id(sub.id, f"again-{task_queue}"),
    ):
        history = await temporal_client.get_workflow_handle(run).fetch_history()
        assert history.events and not any(b"vless://" in e.SerializeToString() for e in history.events)
    assert all(panel.calls - before == 1 for panel, before in zip(panels, calls, strict=True))


@pytest.mark.parametrize("version", VERSIONS)
async def test_renewal_ban_and_unban_follow_the_database(
    panel_worker: AppContext, temporal_client: Client, task_queue: str, start_panel: StartPanel, version: str
) -> None:
    ctx = panel_worker
    panel, _, sub = await one_paid_host(ctx, start_panel, version)
    await provision(temporal_client, task_queue, sub.id, "first")
    await ledger.grant(ctx.sessions, sub.id, "pay:2", timedelta(days=30), GrantKind.PURCHASE, "test")
    renewed = await provision(temporal_client, task_queue, sub.id, "renew")
    assert renewed.hosts[0].status == "updated"
    assert panel.clients()[0]["expiryTime"] == await expires(ctx, sub.id)

    async with ctx.sessions() as session, session.begin():
        await session.execute(update(User).where(User.id == sub.user_id).values(banned=True))
    await provision(temporal_client, task_queue, sub.id, "ban")
    assert panel.clients()[0]["enable"] is False
    async with ctx.sessions() as session, session.begin():
        await session.execute(update(User).where(User.id == sub.user_id).values(banned=False))
    await provision(temporal_client, task_queue, sub.id, "unban")
    assert panel.clients()[0]["enable"] is True


async def test_a_host_down_does_not_hold_up_the_others_and_completes_when_back(
    panel_worker: AppContext, temporal_client: Client, task_queue: str, start_panel: StartPanel
) -> None:
    ctx = panel_worker
    healthy, flaky = await start_panel(version=V3_1), await start_panel(version=V2)
    await add_sandbox_host(ctx, healthy)
    await add_sandbox_host(ctx, flaky)
    sub = await subscriber(ctx.sessions)
    await ledger.grant(ctx.sessions, sub.id, "pay:1", timedelta(days=30), GrantKind.PURCHASE, "test")
    await flaky.down()
    handle = await temporal_client.start_workflow(
        ProvisionSubscriptionWorkflow.run,
        ProvisionInput(subscription_id=sub.id),
        id=provision_workflow_id(sub.id, f"outage-{task_queue}"),
        task_queue=task_queue,
    )
    for _ in range(100):
        if healthy.clients():
            break
        await asyncio.sleep(0.1)
    assert healthy.clients() and not flaky.clients()  # the healthy host did not wait
    await flaky.up()
    result = await handle.result()
    assert sorted(str(h.status) for h in result.hosts) == ["created", "created"]
    assert flaky.clients()[0]["expiryTime"] == await expires(ctx, sub.id)


async def test_past_the_retry_bound_the_host_is_marked_for_reconciliation(
    panel_worker: AppContext,
    temporal_client: Client,
    task_queue: str,
    start_panel: StartPanel,
    caplog: pytest.LogCaptureFixture,
) -> None:
    ctx = panel_worker
    panel, host, sub = await one_paid_host(ctx, start_panel, V3_0)
    await panel.down()
    caplog.set_level(logging.INFO)
    result = await provision(temporal_client, task_queue, sub.id, "bounded", retry_seconds=3)
    assert result.failed_hosts == [host.id]
    # Each retry is one line naming the host and the cause; no traceback per attempt.
    retries = [r for r in caplog.records if r.name == "vpnshop.panels"]
    assert retries, "the dead panel's retries were not logged"
    for record in retries:
        line = record.getMessage()
        assert "\n" not in line and host.name in line and "PanelUnavailable" in line, line
    noisy = [r for r in caplog.records if r.exc_info and r.levelno >= logging.WARNING]
    assert not noisy, [r.getMessage() for r in noisy]
    assert "PanelUnavailable" in result.hosts[0].error or "timed out" in result.hosts[0].error
    [row] = await rows(ctx, sub.id)
    assert row.needs_reconcile and row.link == ""
    await panel.up()
    await temporal_client.execute_workflow(
        ReconcilePanelsWorkflow.run, ReconcileInput(), id=f"reconcile-{task_queue}", task_queue=task_queue
    )
    [row] = await rows(ctx, sub.id)
    assert not row.needs_reconcile and row.link.startswith("vless://")
    assert panel.clients()[0]["expiryTime"] == await expires(ctx, sub.id)


@pytest.mark.parametrize("version", VERSIONS)
async def test_racing_runs_leave_one_client_with_the_latest_expiry(
    panel_worker: AppContext, temporal_client: Client, task_queue: str, start_panel: StartPanel, version: str
) -> None:
    ctx = panel_worker
    panel, _, sub = await one_paid_host(ctx, start_panel, version)
    panel.faults.delay = 0.1
    first = await temporal_client.start_workflow(
        ProvisionSubscriptionWorkflow.run,
        ProvisionInput(subscription_id=sub.id),
        id=provision_workflow_id(sub.id, f"a-{task_queue}"),
        task_queue=task_queue,
    )
    await asyncio.sleep(0.15)
    await ledger.grant(ctx.sessions, sub.id, "pay:2", timedelta(days=30), GrantKind.PURCHASE, "test")
    second = await temporal_client.start_workflow(
        ProvisionSubscriptionWorkflow.run,
        ProvisionInput(subscription_id=sub.id),
        id=provision_workflow_id(sub.id, f"b-{task_queue}"),
        task_queue=task_queue,
    )
    await asyncio.gather(first.result(), second.result())
    [client] = panel.clients()
    assert client["expiryTime"] == await expires(ctx, sub.id)


@pytest.mark.parametrize("version", VERSIONS)
async def test_a_stale_writer_rereads_the_ledger_and_rewrites(
    panel_ctx: AppContext, start_panel: StartPanel, version: str
) -> None:
    """Two workers (no shared lock): the one that read the ledger first writes last, yet the panel
    ends with the newest expiry because every writer re-reads the ledger after writing."""
    from activities.panels import PanelActivities

    ctx = panel_ctx
    panel, host, sub = await one_paid_host(ctx, start_panel, version)
    slow, fast = PanelActivities(ctx.sessions, ctx.settings), PanelActivities(ctx.sessions, ctx.settings)
    await fast.pool.inbound(host)  # warm: one call fewer than the cold one
    await fast.provisioner.sync(host, sub.id)
    panel.faults.delay = 0.2
    await ledger.grant(ctx.sessions, sub.id, "pay:2", timedelta(days=30), GrantKind.PURCHASE, "test")
    stale = asyncio.create_task(slow.provisioner.sync(host, sub.id))
    await asyncio.sleep(0.05)
    await ledger.grant(ctx.sessions, sub.id, "pay:3", timedelta(days=30), GrantKind.PURCHASE, "test")
    await asyncio.sleep(0.05)
    fresh = await fast.provisioner.sync(host, sub.id)
    late = await stale
    assert late.rewrites >= 1 and late.expires_at == fresh.expires_at
    assert panel.clients()[0]["expiryTime"] == await expires(ctx, sub.id)
    await slow.pool.aclose()
    await fast.pool.aclose()


async def test_no_access_and_expired_subscriptions_create_nothing(
    panel_ctx: AppContext, start_panel: StartPanel
) -> None:
    from activities.panels import PanelActivities

    ctx = panel_ctx
    panel = await start_panel(version=V2)
    host = await add_sandbox_host(ctx, panel)
    sub = await subscriber(ctx.sessions)
    acts = PanelActivities(ctx.sessions, ctx.settings)
    assert (await acts.provisioner.sync(host, sub.id)).status == "no_access"
    async with ctx.sessions() as session, session.begin():
        await session.execute(
            update(Subscription)
            .where(Subscription.id == sub.id)
            .values(expires_at=utcnow() - timedelta(days=1))
        )
    assert (await acts.provisioner.sync(host, sub.id)).status == "absent"
    assert panel.clients() == [] and await rows(ctx, sub.id) == []
    await acts.pool.aclose()
