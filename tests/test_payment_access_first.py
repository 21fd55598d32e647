"""Access first (DESIGN.md 10): a dead panel host does not hold a paid customer's access card.

The payment's run tries every host once itself (workflows/payment_hosts.py). The card goes out
while one host still refuses connections; only that host goes to the payment's provisioning run,
which gives it the client once it is back; when every host takes the client no provisioning run is
started at all. When no host at all can take the client, the customer and the operator hear so at
once, and the card follows the first host that recovers.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from bot.texts import t
from shop.models import PanelClient, PaymentMethod, PaymentStatus, Subscription
from shop.payments.service import new_payment_id, start_checkout
from tests.conftest import Database
from tests.factories import plan, subscriber
from tests.panel_fixtures import StartPanel, add_sandbox_host, panel_settings
from tests.payments_env import OPERATOR, SLOW_POLL, PaymentBench, payment_bench
from workflows.payment_messages import workflow_id
from workflows.provision import HostProvision, ProvisionSubscriptionWorkflow, provision_workflow_id

CUSTOMER = 1001
LANGUAGE = "ru"  # the factories' customer


async def _pay(bench: PaymentBench) -> str:
    await subscriber(bench.ctx.sessions, CUSTOMER)
    offer = await plan(bench.ctx.sessions)
    payment_id = new_payment_id()
    checkout = await start_checkout(bench.ctx, CUSTOMER, offer.id, PaymentMethod.YOOKASSA, payment_id)
    assert checkout.pay_url
    bench.yookassa.pay(checkout.pay_url.rsplit("/", 1)[-1])
    return payment_id


async def _subscription(bench: PaymentBench) -> Subscription:
    async with bench.ctx.sessions() as session:
        sub = await session.scalar(select(Subscription).where(Subscription.user_id == CUSTOMER))
    assert sub is not None
    return sub


def _cards(bench: PaymentBench) -> list[str]:
    return [m.caption or "" for m in bench.telegram.messages(CUSTOMER) if "/sub/" in (m.caption or "")]


async def test_a_dead_host_does_not_hold_the_card_and_is_provisioned_when_back(
    sqlite_db: Database, temporal_client: Client, task_queue: str, start_panel: StartPanel
) -> None:
    healthy, dead = await start_panel(version="v3.1"), await start_panel(version="v2")
    async with payment_bench(
        sqlite_db, temporal_client, task_queue, **(SLOW_POLL | panel_settings())
    ) as bench:
        await add_sandbox_host(bench.ctx, healthy, "healthy")
        dead_host = await add_sandbox_host(bench.ctx, dead, "dead")
        await dead.down()
        payment_id = await _pay(bench)

        progress = await bench.result(payment_id)  # the payment's run closes with the host still down
        assert progress.stage == "delivered"
        assert (await bench.payment(payment_id)).status is PaymentStatus.DELIVERED
        [card] = await bench.telegram.wait_for(lambda: _cards(bench), seconds=30)
        assert t(LANGUAGE, "servers_preparing", ready=1, servers=2) in card  # the rest: being prepared
        assert healthy.clients() and not dead.clients()

        await dead.up()
        sub = await _subscription(bench)
        child = temporal_client.get_workflow_handle_for(
            ProvisionSubscriptionWorkflow.run, provision_workflow_id(sub.id, f"payment:{payment_id}")
        )
        result = await child.result()  # the same payment's provisioning, finishing in the background
        # Only the host whose first try failed was handed over; the healthy one was not touched again.
        assert result.hosts == [HostProvision(host_id=dead_host.id, status="created")]
        assert len(healthy.clients()) == len(dead.clients()) == 1
        assert [c["expiryTime"] for c in dead.clients()] == [c["expiryTime"] for c in healthy.clients()]
        assert len(_cards(bench)) == 1  # one card, not a second one when the host came back


async def test_no_provisioning_run_when_every_host_takes_the_client_first_time(
    sqlite_db: Database, temporal_client: Client, task_queue: str, start_panel: StartPanel
) -> None:
    first, second = await start_panel(version="v3.1"), await start_panel(version="v2")
    async with payment_bench(
        sqlite_db, temporal_client, task_queue, **(SLOW_POLL | panel_settings())
    ) as bench:
        await add_sandbox_host(bench.ctx, first, "first")
        await add_sandbox_host(bench.ctx, second, "second")
        payment_id = await _pay(bench)

        assert (await bench.result(payment_id)).stage == "delivered"
        assert len(first.clients()) == len(second.clients()) == 1
        [card] = await bench.telegram.wait_for(lambda: _cards(bench), seconds=30)
        assert t(LANGUAGE, "servers_preparing", ready=1, servers=2) not in card
        sub = await _subscription(bench)
        with pytest.raises(RPCError) as missing:
            await temporal_client.get_workflow_handle(
                provision_workflow_id(sub.id, f"payment:{payment_id}")
            ).describe()
        assert missing.value.status is RPCStatusCode.NOT_FOUND
        history = await temporal_client.get_workflow_handle(workflow_id(payment_id)).fetch_history()
        started = EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED
        assert [e for e in history.events if e.event_type == started] == []


async def test_no_host_at_all_tells_customer_and_operator_then_sends_the_card_on_recovery(
    sqlite_db: Database, temporal_client: Client, task_queue: str, start_panel: StartPanel
) -> None:
    only = await start_panel(version="v3.1")
    async with payment_bench(
        sqlite_db, temporal_client, task_queue, **(SLOW_POLL | panel_settings())
    ) as bench:
        await add_sandbox_host(bench.ctx, only, "only")
        await only.down()
        payment_id = await _pay(bench)

        await bench.telegram.wait_for(
            lambda: any(m.text == t(LANGUAGE, "pay_no_host_yet") for m in bench.telegram.messages(CUSTOMER)),
            30,
        )
        # The operator's language is the shop's default unless they wrote to the bot: either words.
        told = ("no server could take", "ни один сервер пока не принял")
        await bench.telegram.wait_for(
            lambda: any(
                payment_id in (m.text or "") and any(words in (m.text or "") for words in told)
                for m in bench.telegram.messages(OPERATOR)
            ),
            30,
        )
        assert _cards(bench) == []  # no card with a link that serves nothing
        stored = await bench.payment(payment_id)
        assert stored.status is PaymentStatus.SUCCEEDED  # paid, not yet delivered

        await only.up()
        assert (await bench.result(payment_id, within=90)).stage == "delivered"
        assert (await bench.payment(payment_id)).status is PaymentStatus.DELIVERED
        await bench.telegram.wait_for(
            lambda: len([m for m in bench.telegram.messages(CUSTOMER) if m.photo]) == 1, 30
        )
        [card] = _cards(bench)
        assert t(LANGUAGE, "servers_preparing", ready=0, servers=1) not in card  # all serving now
        async with bench.ctx.sessions() as session:
            rows = list(await session.scalars(select(PanelClient)))
        assert len(rows) == 1 and rows[0].link.startswith("vless://") and len(only.clients()) == 1


async def test_a_first_try_out_of_time_is_no_alarm_the_child_tries_again(
    sqlite_db: Database, temporal_client: Client, task_queue: str, start_panel: StartPanel
) -> None:
    """The only host answers, slowly: every request takes 2 s, so the run's first try runs past its
    bound (workflows/payment_hosts.FIRST_TRY) and proves nothing. The customer is not told that no
    server could take the subscription; the child's own try (60 s per attempt) provisions the host
    and the card follows."""
    slow = await start_panel(version="v3.1")
    settings = SLOW_POLL | panel_settings(panel_timeout_seconds=15.0)
    async with payment_bench(sqlite_db, temporal_client, task_queue, **settings) as bench:
        host = await add_sandbox_host(bench.ctx, slow, "slow")
        slow.faults.delay = 2.0
        payment_id = await _pay(bench)

        assert (await bench.result(payment_id, within=120)).stage == "delivered"
        assert len(await bench.telegram.wait_for(lambda: _cards(bench), seconds=30)) == 1
        assert t(LANGUAGE, "pay_no_host_yet") not in [m.text for m in bench.telegram.messages(CUSTOMER)]
        sub = await _subscription(bench)
        child = temporal_client.get_workflow_handle_for(
            ProvisionSubscriptionWorkflow.run, provision_workflow_id(sub.id, f"payment:{payment_id}")
        )
        assert (await child.result()).hosts == [HostProvision(host_id=host.id, status="created")]
        assert len(slow.clients()) == 1
