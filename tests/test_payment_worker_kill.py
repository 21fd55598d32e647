"""The worker process is SIGKILLed in the middle of a burst of paid payments and started again:
every payment is delivered exactly once (one grant, one panel client per subscription and host)."""

from __future__ import annotations

import asyncio
import signal

import pytest
from sqlalchemy import func, select
from temporalio.client import Client

from shop.models import Grant, PanelClient, Payment, PaymentMethod, PaymentStatus
from shop.payments.service import new_payment_id, start_checkout
from shop.runtime.temporal import EmbeddedTemporal
from tests.conftest import Database
from tests.factories import plan, subscriber
from tests.panel_fixtures import StartPanel, add_sandbox_host, panel_settings
from tests.payments_env import SLOW_POLL, PaymentBench, payment_bench
from tests.polling import eventually
from tests.worker_process import worker_env, worker_process

PAYMENTS = 30


async def _delivered(bench: PaymentBench) -> int:
    async with bench.ctx.sessions() as session:
        count = await session.scalar(
            select(func.count()).select_from(Payment).where(Payment.status == PaymentStatus.DELIVERED)
        )
    return int(count or 0)


@pytest.mark.xdist_group("load")  # one load test at a time: see README "Testing"
async def test_worker_killed_mid_burst_delivers_every_payment_exactly_once(
    sqlite_db: Database,
    temporal_client: Client,
    temporal_server: EmbeddedTemporal,
    task_queue: str,
    start_panel: StartPanel,
) -> None:
    panels = [await start_panel(version="v2"), await start_panel()]
    settings = SLOW_POLL | panel_settings()
    async with payment_bench(sqlite_db, temporal_client, task_queue, worker=False, **settings) as bench:
        ctx = bench.ctx
        for index, panel in enumerate(panels):
            await add_sandbox_host(ctx, panel, f"host{index}")
        offer = await plan(ctx.sessions)
        users = range(7000, 7000 + PAYMENTS)
        for user in users:
            await subscriber(ctx.sessions, user, f"u{user}")
        ids = [new_payment_id() for _ in users]
        env = worker_env(ctx.settings, temporal_server)
        worker = worker_process(env)
        try:
            clicks = [
                start_checkout(ctx, user, offer.id, PaymentMethod.YOOKASSA, payment_id)
                for user, payment_id in zip(users, ids, strict=True)
                for _ in range(2)
            ]
            await asyncio.gather(*clicks)
            yk = bench.yookassa
            await eventually(lambda: _true(len(yk.payments) == PAYMENTS))
            yk.webhooks.copies = 5
            provider_ids = [yk.by_order(payment_id)["id"] for payment_id in ids]
            first, second = provider_ids[: PAYMENTS // 2], provider_ids[PAYMENTS // 2 :]
            for provider_id in first:
                yk.pay(provider_id)
            await eventually(lambda: _at_least(bench, PAYMENTS // 4))
            for provider_id in second:  # the second wave's webhooks are in flight at the kill
                yk.pay(provider_id)
            worker.send_signal(signal.SIGKILL)
            worker.wait()
            delivered_at_kill = await _delivered(bench)
            assert delivered_at_kill < PAYMENTS, "the kill must land mid-burst"
            await yk.webhooks.drain()  # the API answers without a worker: hints are durable
            # Without a worker the API still records every hint: no answer but 200, and each
            # event got its 200 (a sandbox request timing out on a loaded machine is retried).
            attempts = yk.webhooks.attempts
            assert {attempt.status for attempt in attempts if attempt.status is not None} == {200}
            assert {a.body for a in attempts} == {a.body for a in attempts if a.status == 200}
            worker = worker_process(env)
            # In-flight activities are retried after their 10 s heartbeat timeout, not after the
            # 30-60 s start-to-close timeout.
            await eventually(lambda: _at_least(bench, PAYMENTS), seconds=40)
            # A card goes out on the first host that serves; the other host's client follows in the
            # background (the run's other try, or a provisioning run): both are there in the end.
            await eventually(lambda: _clients_recorded(bench, 2 * PAYMENTS), seconds=60)
        finally:
            worker.kill()
            worker.wait()
        async with ctx.sessions() as session:
            keys = list(await session.scalars(select(Grant.source_key)))
            statuses = set(await session.scalars(select(Payment.status)))
    assert sorted(keys) == sorted(ids)  # one grant per payment
    assert statuses == {PaymentStatus.DELIVERED}
    for panel in panels:
        emails = [client["email"] for client in panel.clients()]
        assert len(emails) == PAYMENTS and len(set(emails)) == PAYMENTS


async def _true(value: bool) -> bool:
    return value


async def _at_least(bench: PaymentBench, count: int) -> bool:
    return await _delivered(bench) >= count


async def _clients_recorded(bench: PaymentBench, count: int) -> bool:
    async with bench.ctx.sessions() as session:
        rows = await session.scalar(select(func.count()).select_from(PanelClient))
    return rows == count
