"""The proxy through Temporal onto a sandbox MTG panel: buy, renew, expire (stopped on the node),
renew after expiry (started again, same link), a lost answer retried without a second proxy or a
second renewal, and the reconciliation repairing drift nobody wrote down."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import update
from temporalio.client import Client

from sandbox.mtg import SandboxMtg
from shop.access import ledger
from shop.context import AppContext
from shop.crypto import Sealer
from shop.customers.admin import AccessSync, PanelSync
from shop.models import GrantKind, Product, Subscription, User, utcnow
from shop.proxy.hosts import MtgHostService
from shop.proxy.provisioning import proxies_due
from tests.factories import subscriber
from tests.polling import eventually
from tests.proxy_fixtures import add_mtg_host, proxy_row, subscription
from workflows.proxy import (
    ProvisionProxyInput,
    ProvisionProxyResult,
    ProvisionProxyWorkflow,
    ProxyUpkeepInput,
    ProxyUpkeepReport,
    ProxyUpkeepWorkflow,
    proxy_workflow_id,
)

MONTH = timedelta(days=30)


@pytest.fixture
async def mtg() -> AsyncIterator[SandboxMtg]:
    async with SandboxMtg() as panel:
        yield panel


async def provision(client: Client, queue: str, sub_id: int, trigger: str) -> ProvisionProxyResult:
    return await client.execute_workflow(
        ProvisionProxyWorkflow.run,
        ProvisionProxyInput(subscription_id=sub_id, retry_seconds=60),
        id=proxy_workflow_id(sub_id, f"{trigger}-{queue}"),
        task_queue=queue,
    )


async def upkeep(client: Client, queue: str, full: bool, run: str) -> ProxyUpkeepReport:
    return await client.execute_workflow(
        ProxyUpkeepWorkflow.run,
        ProxyUpkeepInput(full=full),
        id=f"proxy-upkeep-{run}-{queue}",
        task_queue=queue,
    )


async def end_proxy(ctx: AppContext, sub_id: int) -> None:
    """The proxy's entitlement ended a minute ago (as if its last day ran out)."""
    async with ctx.sessions() as session, session.begin():
        past = utcnow() - timedelta(minutes=1)
        await session.execute(
            update(Subscription).where(Subscription.id == sub_id).values(proxy_expires_at=past)
        )


async def buy(ctx: AppContext, sub_id: int, key: str) -> None:
    await ledger.grant(ctx.sessions, sub_id, key, MONTH, GrantKind.PURCHASE, "test", product=Product.PROXY)


async def test_buy_renew_expire_and_renew_after_expiry_keep_one_proxy_and_its_link(
    panel_worker: AppContext, temporal_client: Client, task_queue: str, mtg: SandboxMtg
) -> None:
    ctx = panel_worker
    await add_mtg_host(ctx, mtg)
    sub = await subscriber(ctx.sessions)
    await buy(ctx, sub.id, "proxy-pay:1")
    assert (await provision(temporal_client, task_queue, sub.id, "buy")).status == "created"
    [user] = mtg.state.users.values()
    ledger_expiry = (await subscription(ctx, sub.id)).proxy_expires_at
    assert ledger_expiry is not None and (await subscription(ctx, sub.id)).expires_at is None  # VPN untouched
    # The absolute expiry, to the second (rounded up: never short of the ledger's).
    assert timedelta(0) <= user.expires_at - ledger_expiry < timedelta(seconds=1) and user.active
    row = await proxy_row(ctx, sub.id)
    assert row is not None and row.link == mtg.link(user.name) and row.node == "n2"  # the best node
    link = row.link

    await buy(ctx, sub.id, "proxy-pay:2")
    assert (await provision(temporal_client, task_queue, sub.id, "renew")).status == "updated"
    renewed = (await subscription(ctx, sub.id)).proxy_expires_at
    assert renewed is not None and renewed.replace(microsecond=0) <= user.expires_at < renewed + timedelta(
        days=1
    )
    assert list(mtg.state.users) == [user.name]

    # The entitlement ends: the upkeep (no panel reads needed to find it) stops the proxy.
    await end_proxy(ctx, sub.id)
    report = await upkeep(temporal_client, task_queue, False, "expire")
    assert (report.proxies, report.in_line) == (1, 1)
    assert mtg.user(user.name) is not None and not mtg.user(user.name).active  # type: ignore[union-attr]
    assert (await upkeep(temporal_client, task_queue, False, "quiet")).proxies == 0  # in line now

    await buy(ctx, sub.id, "proxy-pay:3")  # renewed after expiry: started again, same link
    assert (await provision(temporal_client, task_queue, sub.id, "back")).status == "updated"
    again = mtg.user(user.name)
    assert again is not None and again.active and again.expires_at > utcnow() + timedelta(days=29)
    row = await proxy_row(ctx, sub.id)
    assert row is not None and row.link == link and row.enabled_written


async def test_a_lost_answer_makes_no_second_proxy_and_no_second_renewal(
    panel_worker: AppContext, temporal_client: Client, task_queue: str, mtg: SandboxMtg
) -> None:
    ctx = panel_worker  # panel_timeout_seconds = 2
    await add_mtg_host(ctx, mtg)
    sub = await subscriber(ctx.sessions)
    await buy(ctx, sub.id, "proxy-pay:1")
    mtg.faults.commit_then_timeout, mtg.faults.hang_seconds, mtg.faults.only_path = 1, 5.0, "/users"
    # The retry finds the proxy the lost answer had made, and takes it as it is.
    assert (await provision(temporal_client, task_queue, sub.id, "buy")).status == "unchanged"
    assert mtg.faults.commit_then_timeout == 0  # the fault did fire: the first create's answer was lost
    assert len(mtg.state.users) == 1

    await buy(ctx, sub.id, "proxy-pay:2")
    mtg.faults.commit_then_timeout, mtg.faults.only_path = 1, "/renew"
    await provision(temporal_client, task_queue, sub.id, "renew")
    assert mtg.faults.commit_then_timeout == 0
    [user] = mtg.state.users.values()
    wanted = (await subscription(ctx, sub.id)).proxy_expires_at
    assert wanted is not None and user.expires_at < wanted + timedelta(days=1)  # renewed once, not twice


async def test_reconciliation_repairs_drift_on_the_panel(
    panel_worker: AppContext, temporal_client: Client, task_queue: str, mtg: SandboxMtg
) -> None:
    ctx = panel_worker
    await add_mtg_host(ctx, mtg)
    first, second = await subscriber(ctx.sessions, 1001), await subscriber(ctx.sessions, 1002, "Bob")
    for sub in (first, second):
        await buy(ctx, sub.id, f"proxy-pay:{sub.id}")
        await provision(temporal_client, task_queue, sub.id, "buy")
    gone = (await proxy_row(ctx, first.id)).name  # type: ignore[union-attr]
    stopped = (await proxy_row(ctx, second.id)).name  # type: ignore[union-attr]
    del mtg.state.users[gone]  # someone deleted it on the panel
    mtg.state.users[stopped].active = False  # someone stopped it by hand

    assert (await upkeep(temporal_client, task_queue, False, "db-only")).proxies == 0  # the DB cannot see it
    report = await upkeep(temporal_client, task_queue, True, "full")
    assert (report.proxies, report.in_line, report.left_to_reconcile) == (2, 2, 0)
    recreated = mtg.user(gone)
    assert recreated is not None and recreated.active
    assert (await proxy_row(ctx, first.id)).link == mtg.link(gone)  # type: ignore[union-attr]
    assert mtg.user(stopped).active  # type: ignore[union-attr]


async def test_a_ban_stops_the_proxy_at_once_and_an_unban_starts_it(
    panel_worker: AppContext, temporal_client: Client, task_queue: str, mtg: SandboxMtg
) -> None:
    ctx = panel_worker
    await add_mtg_host(ctx, mtg)
    sub = await subscriber(ctx.sessions)
    await buy(ctx, sub.id, "proxy-pay:1")
    await provision(temporal_client, task_queue, sub.id, "buy")
    [name] = mtg.state.users
    sync = AccessSync(ctx)
    for banned in (True, False):
        async with ctx.sessions() as session, session.begin():
            await session.execute(update(User).where(User.id == sub.user_id).values(banned=banned))
        assert await sync.sync(sub.user_id) is PanelSync.STARTED

        async def in_line(banned: bool = banned) -> bool:
            return mtg.state.users[name].active is not banned

        assert await eventually(in_line)


async def test_the_upkeep_leaves_proxies_of_a_disabled_host_alone(
    panel_worker: AppContext, temporal_client: Client, task_queue: str, mtg: SandboxMtg
) -> None:
    ctx = panel_worker
    await add_mtg_host(ctx, mtg)
    first, second = await subscriber(ctx.sessions, 1001), await subscriber(ctx.sessions, 1002, "Bob")
    await buy(ctx, first.id, "proxy-pay:1")
    await provision(temporal_client, task_queue, first.id, "buy")
    service = MtgHostService(ctx.sessions, Sealer.from_settings(ctx.settings))
    await service.set_enabled("mtg", False)
    await buy(ctx, second.id, "proxy-pay:2")  # entitled while no host is enabled
    await end_proxy(ctx, first.id)
    assert await proxies_due(ctx.sessions, full=True) == []  # nothing can be written: nothing is due
    await service.set_enabled("mtg", True)
    assert await proxies_due(ctx.sessions, full=False) == [first.id, second.id]
    report = await upkeep(temporal_client, task_queue, False, "back")
    assert (report.proxies, report.in_line) == (2, 2)
    assert not mtg.state.users[f"vpnshop-proxy-{first.id}"].active
    assert mtg.state.users[f"vpnshop-proxy-{second.id}"].active
