"""Workflow history events per paid VPN order: the payment's run plus its provisioning child's.

Each YooKassa payment is delivered with two sandbox hosts, first both serving, then with one refusing
connections until the card is out (brought back, its provisioning finishes before counting). The
events are those the Temporal server stores and every worker task replays: fewer per payment is less
server and SDK work. Run on two checkouts to compare shapes (it uses only what both have):

    .venv/bin/python -m bench.payment_events [--payments 3]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
from pathlib import Path

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from sandbox.panel import V3_1, SandboxPanel
from shop.db import create_engine, session_factory
from shop.models import PaymentMethod
from shop.payments.service import new_payment_id, start_checkout
from shop.runtime.migrate import upgrade
from shop.runtime.temporal import EmbeddedTemporal, connect, free_port
from tests.conftest import NAMESPACE, Database
from tests.factories import plan, subscriber
from tests.panel_fixtures import add_sandbox_host, panel_settings
from tests.payments_env import SLOW_POLL, PaymentBench, payment_bench
from workflows.payment_messages import workflow_id
from workflows.provision import provision_workflow_id


async def _events(client: Client, run_id: str) -> tuple[int, int]:
    """The closed run's history length and its workflow tasks; zeros when no run has this id."""
    handle = client.get_workflow_handle(run_id)
    try:
        await handle.result()
        events = (await handle.fetch_history()).events
    except RPCError as error:
        if error.status is not RPCStatusCode.NOT_FOUND:
            raise
        return 0, 0
    tasks = [e for e in events if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED]
    return len(events), len(tasks)


async def _payment(bench: PaymentBench, user_id: int, down: SandboxPanel | None) -> list[int]:
    sub = await subscriber(bench.ctx.sessions, user_id, f"User{user_id}")
    offer = await plan(bench.ctx.sessions)
    payment_id = new_payment_id()
    if down is not None:
        await down.down()
    await start_checkout(bench.ctx, user_id, offer.id, PaymentMethod.YOOKASSA, payment_id)
    bench.yookassa.pay(bench.yookassa.by_order(payment_id)["id"])
    progress = await bench.result(payment_id, within=120)
    assert progress.stage == "delivered", progress
    if down is not None:
        await down.up()
    payment = await _events(bench.client, workflow_id(payment_id))
    child = await _events(bench.client, provision_workflow_id(sub.id, f"payment:{payment_id}"))
    return [*payment, *child]


async def measure(payments: int) -> None:
    server = EmbeddedTemporal(port=free_port(), ui_port=None, namespace=NAMESPACE)
    server.start()
    try:
        client = await connect(server.address, NAMESPACE)
        with tempfile.TemporaryDirectory(prefix="payment-events-") as workdir:
            url = f"sqlite+aiosqlite:///{Path(workdir) / 'shop.db'}"
            await upgrade(url)
            engine = create_engine(url)
            database = Database("sqlite", url, engine, session_factory(engine))
            settings = SLOW_POLL | panel_settings()
            try:
                async with (
                    SandboxPanel(version=V3_1) as first,
                    SandboxPanel(version=V3_1) as second,
                    payment_bench(database, client, "payment-events", **settings) as bench,
                ):
                    await add_sandbox_host(bench.ctx, first, "first")
                    await add_sandbox_host(bench.ctx, second, "second")
                    user = 1000  # the sandbox Telegram knows customers 1001-1010
                    for case, down in (("both hosts serving", None), ("one host refusing", second)):
                        counts = []
                        for _ in range(payments):
                            user += 1
                            counts.append(await _payment(bench, user, down))
                        events, tasks, child_events, child_tasks = (
                            statistics.median(c[i] for c in counts) for i in range(4)
                        )
                        print(
                            f"{case} (median of {payments}): payment run {events:g} events "
                            f"({tasks:g} workflow tasks), provisioning child {child_events:g} "
                            f"({child_tasks:g}), total {events + child_events:g} events "
                            f"({tasks + child_tasks:g} workflow tasks) per payment"
                        )
            finally:
                await engine.dispose()
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--payments", type=int, default=3, help="payments per case (at most 5)")
    asyncio.run(measure(parser.parse_args().payments))


if __name__ == "__main__":
    main()
