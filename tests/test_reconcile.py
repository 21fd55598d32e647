"""Reconciliation through Temporal: drift fixed, missing clients re-created, new hosts back-filled,
unknown clients reported and left alone; and the Schedule that runs it."""

from __future__ import annotations

from datetime import timedelta

from temporalio.client import Client

from sandbox.panel import V2, V3_0, V3_1, VERSIONS
from shop.access import ledger
from shop.access.provisioning import expiry_ms
from shop.context import AppContext
from shop.models import GrantKind, Subscription
from tests.factories import subscriber
from tests.panel_fixtures import StartPanel, add_sandbox_host
from worker.schedules import ScheduleDefinition, ensure_schedules, reconcile_panels
from workflows.provision import ProvisionInput, ProvisionSubscriptionWorkflow, provision_workflow_id
from workflows.reconcile import ReconcileInput, ReconcilePanelsWorkflow, ReconcileResult

FOREIGN = {
    "id": "0b7d4c55-0000-4000-8000-000000000001",
    "email": "operator-phone",
    "enable": True,
    "subId": "op",
}


async def reconcile(client: Client, queue: str, name: str) -> ReconcileResult:
    return await client.execute_workflow(
        ReconcilePanelsWorkflow.run, ReconcileInput(), id=f"reconcile-{name}-{queue}", task_queue=queue
    )


async def two_subscriptions(ctx: AppContext, client: Client, queue: str) -> list[Subscription]:
    subs = [await subscriber(ctx.sessions, 1001, "Alice"), await subscriber(ctx.sessions, 1002, "Bob")]
    for sub in subs:
        await ledger.grant(ctx.sessions, sub.id, f"pay:{sub.id}", timedelta(days=30), GrantKind.PURCHASE, "t")
        await client.execute_workflow(
            ProvisionSubscriptionWorkflow.run,
            ProvisionInput(subscription_id=sub.id),
            id=provision_workflow_id(sub.id, f"setup-{queue}"),
            task_queue=queue,
        )
    return subs


async def test_drift_is_fixed_missing_clients_recreated_unknown_reported(
    panel_worker: AppContext, temporal_client: Client, task_queue: str, start_panel: StartPanel
) -> None:
    ctx = panel_worker
    panels = [await start_panel(version=v) for v in VERSIONS]
    for panel in panels:
        panel.state.add_clients(panel.inbound_id, {"clients": [dict(FOREIGN)]})
        await add_sandbox_host(ctx, panel)
    alice, bob = await two_subscriptions(ctx, temporal_client, task_queue)
    emails = {}
    for panel in panels:
        ours = sorted(
            (c for c in panel.clients() if c["email"] != "operator-phone"), key=lambda c: c["email"]
        )
        emails[panel.port] = [c["email"] for c in ours]
        ours[0]["expiryTime"] -= 86_400_000  # someone shortened Alice by a day in the panel UI
        ours[0]["enable"] = False
        panel.state.remove(panel.state.inbounds[panel.inbound_id], ours[1])  # and deleted Bob

    result = await reconcile(temporal_client, task_queue, "drift")
    assert len(result.hosts) == len(VERSIONS)
    for report in result.hosts:
        assert (report.fixed_expiry, report.fixed_enabled, report.recreated) == (1, 1, 1), report
        assert report.unknown_count == 1 and report.unknown_clients == ["operator-phone"]
    for panel in panels:
        for sub in (alice, bob):
            async with ctx.sessions() as session:
                stored = await session.get(Subscription, sub.id)
            email = next(e for e in emails[panel.port] if e.startswith(f"vpnshop-{sub.id}-"))
            client = panel.client(email)
            assert client is not None and client["expiryTime"] == expiry_ms(
                stored.expires_at if stored else None
            )
            assert client["enable"] is True
        assert panel.client("operator-phone") is not None  # reported, never deleted

    again = await reconcile(temporal_client, task_queue, "steady")
    assert all((r.unchanged, r.fixed_expiry, r.recreated) == (2, 0, 0) for r in again.hosts)


async def test_new_and_re_enabled_hosts_are_back_filled(
    panel_worker: AppContext, temporal_client: Client, task_queue: str, start_panel: StartPanel
) -> None:
    from shop.access.hosts import HostService
    from shop.crypto import Sealer

    ctx = panel_worker
    first = await start_panel(version=V3_1)
    await add_sandbox_host(ctx, first)
    await two_subscriptions(ctx, temporal_client, task_queue)
    expired = await subscriber(ctx.sessions, 1003, "Carol")  # granted once, long expired
    await ledger.grant(ctx.sessions, expired.id, "t:1", timedelta(days=1), GrantKind.TRIAL, "t")
    async with ctx.sessions() as session, session.begin():
        stored = await session.get(Subscription, expired.id)
        assert stored is not None and stored.expires_at is not None
        stored.expires_at -= timedelta(days=2)

    late = await start_panel(version=V2)
    host = await add_sandbox_host(ctx, late, name="late")
    result = await reconcile(temporal_client, task_queue, "new")
    report = next(r for r in result.hosts if r.host_id == host.id)
    assert report.backfilled == 2 and len(late.clients()) == 2  # not Carol: she is expired

    service = HostService(ctx.sessions, Sealer.from_settings(ctx.settings))
    await service.set_enabled("late", False)
    for client in list(late.clients()):
        late.state.remove(late.state.inbounds[late.inbound_id], client)
    result = await reconcile(temporal_client, task_queue, "disabled")
    assert [r.host_id for r in result.hosts] != [] and host.id not in [r.host_id for r in result.hosts]
    assert late.clients() == []
    await service.set_enabled("late", True)
    result = await reconcile(temporal_client, task_queue, "re-enabled")
    report = next(r for r in result.hosts if r.host_id == host.id)
    assert report.recreated == 2 and len(late.clients()) == 2


async def test_a_host_that_is_down_is_reported_and_the_others_reconciled(
    panel_worker: AppContext, temporal_client: Client, task_queue: str, start_panel: StartPanel
) -> None:
    ctx = panel_worker
    up, down = await start_panel(version=V2), await start_panel(version=V3_0)
    await add_sandbox_host(ctx, up)
    broken = await add_sandbox_host(ctx, down)
    await down.down()
    await subscriber(ctx.sessions)
    sub = await subscriber(ctx.sessions, 1005, "Dan")
    await ledger.grant(ctx.sessions, sub.id, "p:1", timedelta(days=3), GrantKind.PURCHASE, "t")
    result = await reconcile(temporal_client, task_queue, "outage")
    failed = next(r for r in result.hosts if r.host_id == broken.id)
    assert failed.errors and ("Unavailable" in failed.errors[0] or "timed out" in failed.errors[0])
    assert len(up.clients()) == 1


async def test_schedule_is_created_once_and_updated_in_place(
    panel_ctx: AppContext, temporal_client: Client, task_queue: str
) -> None:
    definition = ScheduleDefinition(f"reconcile-panels-{task_queue}", reconcile_panels)
    assert await ensure_schedules(temporal_client, panel_ctx.settings, task_queue, [definition]) == [
        definition.schedule_id
    ]
    handle = temporal_client.get_schedule_handle(definition.schedule_id)
    try:
        await handle.pause(note="operator pause")
        faster = panel_ctx.settings.model_copy(update={"panel_reconcile_minutes": 3})
        await ensure_schedules(temporal_client, faster, task_queue, [definition])  # no error: updated
        described = await handle.describe()
        assert described.schedule.spec.intervals[0].every == timedelta(minutes=3)
        assert described.schedule.state.paused  # the operator's pause survives a deploy
        assert described.schedule.action.task_queue == task_queue  # type: ignore[attr-defined]
    finally:
        await handle.delete()
