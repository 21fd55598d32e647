"""A burst of payments, each with a double click and duplicated webhooks: nothing doubled."""

from __future__ import annotations

import asyncio
import os

from sqlalchemy import func, select
from temporalio.client import Client

from shop.models import Grant, Payment, PaymentMethod, PaymentStatus
from shop.payments.service import new_payment_id, start_checkout
from tests.conftest import Database
from tests.factories import plan, subscriber
from tests.payments_env import payment_bench

# 200 runs in bench/payments.py; the test keeps the whole suite fast.
BURST = int(os.environ.get("PAYMENT_BURST", "40"))
SLOW_POLL = {"payment_poll_first_seconds": 600, "payment_poll_max_seconds": 600}


async def test_burst_with_double_clicks_and_duplicate_webhooks(
    sqlite_db: Database, temporal_client: Client, task_queue: str
) -> None:
    async with payment_bench(sqlite_db, temporal_client, task_queue, **SLOW_POLL) as bench:
        ctx = bench.ctx
        offer = await plan(ctx.sessions)
        users = range(5000, 5000 + BURST)
        for user in users:
            await subscriber(ctx.sessions, user, f"u{user}")
        ids = {user: new_payment_id() for user in users}
        limit = asyncio.Semaphore(40)

        async def click(user: int) -> str | None:
            async with limit:
                checkout = await start_checkout(ctx, user, offer.id, PaymentMethod.YOOKASSA, ids[user])
                return checkout.pay_url

        links = await asyncio.gather(*(click(user) for user in users for _ in range(2)))
        assert all(links) and len(set(links)) == BURST  # each double click: one link
        assert len(bench.yookassa.payments) == BURST
        bench.yookassa.webhooks.copies = 5
        for provider_id in list(bench.yookassa.payments):
            bench.yookassa.pay(provider_id)
        results = await asyncio.gather(*(bench.result(pid, within=120) for pid in ids.values()))
        assert {r.stage for r in results} == {"delivered"}
        await bench.yookassa.webhooks.drain()
        assert {a.status for a in bench.yookassa.webhooks.attempts} == {200}
        async with ctx.sessions() as session:
            grants = await session.scalar(select(func.count()).select_from(Grant))
            keys = set(await session.scalars(select(Grant.source_key)))
            delivered = await session.scalar(
                select(func.count()).select_from(Payment).where(Payment.status == PaymentStatus.DELIVERED)
            )
        assert grants == BURST and keys == set(ids.values()) and delivered == BURST
