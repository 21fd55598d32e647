"""A payment's timeline (issue 17): every step of a YooKassa payment whose webhook came twice, one of
whose two hosts was down (failing, retried, then provisioned) and whose customer was invited (the
referrer's reward), in the order the shop took them, from its own records; and the console's
payment page shows the same lines in the same order, with the run linked in the Temporal UI."""

from __future__ import annotations

import asyncio
import re

from temporalio.client import Client

from shop.customers.accounts import ensure_subscription, register_user
from shop.models import PaymentMethod, PaymentStatus
from shop.payments import timeline
from shop.payments.service import new_payment_id, start_checkout
from tests.conftest import Database
from tests.console_client import OWNER, sign_in
from tests.factories import plan
from tests.panel_fixtures import StartPanel, add_sandbox_host, panel_settings
from tests.payments_env import SLOW_POLL, payment_bench
from tests.sub_client import api_client
from workflows.provision import ProvisionSubscriptionWorkflow, provision_workflow_id

CUSTOMER, REFERRER = 1001, 1002


def first(kinds: list[tuple[str, str]], kind: str, containing: str = "") -> int:
    return next(i for i, (k, detail) in enumerate(kinds) if k == kind and containing in detail)


async def test_every_step_in_order(
    db: Database, temporal_client: Client, task_queue: str, start_panel: StartPanel
) -> None:
    healthy, flaky = await start_panel(version="v3.1"), await start_panel(version="v2")
    settings = SLOW_POLL | panel_settings(admin_ids=f"900,{OWNER}")
    async with payment_bench(db, temporal_client, task_queue, **settings) as bench:
        ctx = bench.ctx
        await add_sandbox_host(ctx, healthy, "healthy")
        await add_sandbox_host(ctx, flaky, "flaky")
        await register_user(ctx.sessions, REFERRER, "ref", "Referrer")
        await register_user(ctx.sessions, CUSTOMER, "cust", "Customer", referrer_id=REFERRER)
        subscription = await ensure_subscription(ctx.sessions, CUSTOMER)
        offer = await plan(ctx.sessions, price="200.00")
        await flaky.down()
        payment_id = new_payment_id()
        checkout = await start_checkout(ctx, CUSTOMER, offer.id, PaymentMethod.YOOKASSA, payment_id)
        assert checkout.pay_url
        provider_id = checkout.pay_url.rsplit("/", 1)[-1]
        bench.yookassa.pay(provider_id)  # the webhook, and the same one again once it was answered
        await bench.yookassa.webhooks.drain()  # (copies arriving together share one delivery and line)
        bench.yookassa.notify("payment.succeeded", bench.yookassa.payments[provider_id])
        await bench.result(payment_id)
        assert (await bench.payment(payment_id)).status is PaymentStatus.DELIVERED
        await asyncio.sleep(4)  # the dead host's first tries fail and are retried meanwhile
        await flaky.up()
        child = temporal_client.get_workflow_handle_for(
            ProvisionSubscriptionWorkflow.run, provision_workflow_id(subscription.id, f"payment:{payment_id}")
        )
        await child.result()

        events = await timeline.events(ctx.sessions, payment_id)
        kinds = [(e.kind, e.detail) for e in events]
        created = first(kinds, "created")
        link = first(kinds, "link_issued")
        hooks = [i for i, (k, _) in enumerate(kinds) if k == "webhook"]
        paid_check = first(kinds, "provider_check", "succeeded")
        succeeded = first(kinds, "status", "→ succeeded")
        grant = first(kinds, "grant")
        healthy_ready = first(kinds, "host_ready", "host healthy")
        failures = [d for k, d in kinds if k == "host_failed"]
        flaky_ready = first(kinds, "host_ready", "host flaky")
        delivered = first(kinds, "status", "succeeded → delivered")
        card = first(kinds, "notice", "delivered")
        reward = first(kinds, "referral_reward")
        assert len(hooks) == 2, kinds  # the duplicate is a line of its own
        assert created < link < hooks[0] < paid_check < succeeded < grant < healthy_ready < delivered, kinds
        assert delivered < card < reward, kinds
        assert grant < first(kinds, "host_failed") < flaky_ready, kinds
        assert len(failures) >= 2 and all("flaky" in d and "will retry" in d for d in failures), failures
        # The access-first try, then the retried activity's attempts 1, 2, ...
        attempts = [int(re.findall(r"attempt (\d+),", d)[0]) for d in failures]
        assert attempts == [1, *range(1, len(attempts))], failures
        # 10 % of the 190 paid (200 less the invitee's 5 % first-purchase discount)
        assert kinds[reward][1] == f"19.00 RUB to referrer {REFERRER}", kinds[reward]
        assert [e.id for e in events] == sorted(e.id for e in events)

        async with api_client(ctx) as client:
            await sign_in(client, ctx, OWNER)
            page = await client.get(f"/console/payments/{payment_id}")
        assert page.status_code == 200
        section = page.text.split('id="timeline"', 1)[1].split("</table>", 1)[0]
        assert re.findall(r'<tr data-kind="([a-z_]+)">', section) == [e.kind for e in events]
        assert f"/workflows/payment%3A{payment_id}" in page.text  # the run in the Temporal UI
