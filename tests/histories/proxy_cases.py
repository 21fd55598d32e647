"""Recorded runs of the proxy workflows: a proxy purchase delivered once its MTG panel is back (the
payment's proxy branch and its provisioning child), the proxy's trial, and the upkeep stopping an
ended proxy."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from sandbox.mtg import SandboxMtg
from shop.customers.accounts import ensure_subscription
from shop.models import PaymentMethod, Subscription, utcnow
from shop.payments.service import new_payment_id, start_checkout
from shop.proxy.trial import proxy_trial_key, start_proxy_trial
from tests.factories import subscriber
from tests.histories.recorder import Recorder, Scenario, expect
from tests.payments_env import SLOW_POLL, payment_bench
from tests.proxy_fixtures import add_mtg_host, proxy_plan
from worker.schedules import PROXY_UPKEEP_ID
from workflows.grant import grant_workflow_id
from workflows.payment_messages import workflow_id
from workflows.proxy import ProvisionProxyWorkflow, ProxyUpkeepInput, ProxyUpkeepWorkflow, proxy_workflow_id


async def proxy(rec: Recorder) -> None:
    database = await rec.database("proxy")
    async with (
        SandboxMtg() as mtg,
        payment_bench(database, rec.client, "record-proxy", **SLOW_POLL) as bench,
    ):
        rec.watch(bench.ctx.settings)
        rec.keep_out(mtg.password)
        await add_mtg_host(bench.ctx, mtg)
        await subscriber(bench.ctx.sessions, 1001)
        offer = await proxy_plan(bench.ctx)
        paid = new_payment_id()
        await start_checkout(bench.ctx, 1001, offer.id, PaymentMethod.YOOKASSA, paid)
        await mtg.down()  # the panel is away when the money comes: delivered when it returns
        bench.yookassa.pay(bench.yookassa.by_order(paid)["id"])
        await bench.telegram.wait_for(lambda: bench.telegram.messages(1001), 30)
        await mtg.up()
        progress = await bench.result(paid, within=150)
        expect(progress.stage == "delivered", f"the proxy purchase is delivered: {progress}")
        await rec.save("payment_proxy_delivered", workflow_id(paid))
        sub = await ensure_subscription(bench.ctx.sessions, 1001)
        child = proxy_workflow_id(sub.id, f"payment:{paid}")
        result = await rec.client.get_workflow_handle_for(ProvisionProxyWorkflow.run, child).result()
        expect(result.status == "created", f"the proxy is created once the panel is back: {result}")
        await rec.save("proxy_provision_created", child)

        await subscriber(bench.ctx.sessions, 1002, "Trial")
        expect(await start_proxy_trial(bench.ctx, 1002), "the trial's proxy is up")
        await rec.save("grant_proxy_trial", grant_workflow_id(proxy_trial_key(1002)))

        async with bench.ctx.sessions() as session, session.begin():
            ended = utcnow() - timedelta(minutes=1)
            await session.execute(
                update(Subscription).where(Subscription.id == sub.id).values(proxy_expires_at=ended)
            )
        report = await rec.client.execute_workflow(
            ProxyUpkeepWorkflow.run,
            ProxyUpkeepInput(),
            id=PROXY_UPKEEP_ID,
            task_queue=bench.ctx.settings.temporal_task_queue,
        )
        stopped = mtg.state.users[f"vpnshop-proxy-{sub.id}"]
        expect(report.in_line == 1 and not stopped.active, f"stopped: {report}")
        await rec.save("proxy_upkeep_stopped", PROXY_UPKEEP_ID)


SCENARIOS = [
    Scenario(
        "proxy",
        ("payment_proxy_delivered", "proxy_provision_created", "grant_proxy_trial", "proxy_upkeep_stopped"),
        proxy,
    ),
]
