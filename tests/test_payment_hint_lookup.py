"""Webhooks at the speed of the route (issue 14): a duplicate of a closed payment is answered from
this process's memory once seen (no query, no Temporal call), and the lookups that do reach the
database use a pool of their own, so a webhook never waits behind the worker's sessions."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import httpx
from sqlalchemy import Engine, event, text
from temporalio.client import Client

from shop.db import create_engine, session_factory
from shop.models import PaymentMethod, PaymentStatus
from shop.payments.hint_lookup import HintLookup
from shop.payments.service import new_payment_id, start_checkout
from tests.conftest import Database
from tests.factories import plan, subscriber
from tests.payments_env import SLOW_POLL, PaymentBench, payment_bench

YOOKASSA_ADDRESS = {"X-Forwarded-For": "185.71.76.5"}


async def _checkout(bench: PaymentBench, user_id: int) -> tuple[str, str]:
    await subscriber(bench.ctx.sessions, user_id)
    offer = await plan(bench.ctx.sessions)
    payment_id = new_payment_id()
    await start_checkout(bench.ctx, user_id, offer.id, PaymentMethod.YOOKASSA, payment_id)
    return payment_id, bench.yookassa.by_order(payment_id)["id"]


def _body(bench: PaymentBench, provider_id: str) -> bytes:
    payment = bench.yookassa.payments[provider_id]
    return json.dumps({"type": "notification", "event": "payment.succeeded", "object": payment}).encode()


async def test_hints_skip_the_busy_pool_and_closed_duplicates_skip_the_database(
    sqlite_db: Database, temporal_client: Client, task_queue: str
) -> None:
    # The shop's own pool holds one connection, so one session held elsewhere fills it.
    engine = create_engine(sqlite_db.url, pool_size=1, max_overflow=0, pool_timeout=60)
    narrow = Database(sqlite_db.backend, sqlite_db.url, engine, session_factory(engine))
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    try:
        async with (
            payment_bench(narrow, temporal_client, task_queue, **SLOW_POLL) as bench,
            httpx.AsyncClient(base_url=bench.api, timeout=90) as http,
        ):
            delivered, delivered_provider = await _checkout(bench, 1001)
            bench.yookassa.pay(delivered_provider)
            assert (await bench.result(delivered)).stage == "delivered"
            await bench.yookassa.webhooks.drain()
            waiting, waiting_provider = await _checkout(bench, 1002)
            bench.yookassa.webhooks.lose = True  # this test posts the hints itself
            bench.yookassa.pay(waiting_provider)

            async with engine.connect() as held:  # the worker's (and everyone's) one connection
                await held.execute(text("SELECT 1"))
                # An open payment's hint: looked up on the lookup's own pool, then signalled.
                hint = await http.post(
                    "/webhooks/yookassa", content=_body(bench, waiting_provider), headers=YOOKASSA_ADDRESS
                )
                assert (hint.status_code, hint.json()["detail"]) == (200, "signaled")
                # A closed payment's duplicate: the same, and now remembered as closed.
                dup = await http.post(
                    "/webhooks/yookassa", content=_body(bench, delivered_provider), headers=YOOKASSA_ADDRESS
                )
                assert (dup.status_code, dup.json()["detail"]) == (200, "closed")
            assert (await bench.result(waiting)).stage == "delivered"  # the signal was durable

            event.listen(Engine, "before_cursor_execute", record)
            try:
                for _ in range(3):
                    again = await http.post(
                        "/webhooks/yookassa",
                        content=_body(bench, delivered_provider),
                        headers=YOOKASSA_ADDRESS,
                    )
                    assert (again.status_code, again.json()["detail"]) == (200, "closed")
            finally:
                event.remove(Engine, "before_cursor_execute", record)
            assert [s for s in statements if "payments" in s] == []  # answered from memory
            assert (await bench.payment(delivered)).status is PaymentStatus.DELIVERED
    finally:
        await engine.dispose()


async def test_copies_of_one_event_share_the_delivery_under_way(sqlite_db: Database) -> None:
    lookup = HintLookup(sqlite_db.url)
    calls: list[str] = []
    answers = iter([(503, "not recorded, retry later"), *[(200, "signaled")] * 3])
    gate = asyncio.Event()

    async def deliver() -> tuple[int, str]:
        calls.append("deliver")
        await gate.wait()
        return next(answers)

    try:
        copies = [asyncio.create_task(lookup.once("event-1", deliver)) for _ in range(3)]
        await asyncio.sleep(0.01)
        gate.set()
        assert await asyncio.gather(*copies) == [(503, "not recorded, retry later")] * 3
        assert calls == ["deliver"]  # three copies at once: one delivery, its answer for each
        # Once it has landed, the next copy (the provider's retry of the 503) goes through itself.
        assert await lookup.once("event-1", deliver) == (200, "signaled")
        assert await lookup.once("event-2", deliver) == (200, "signaled")
        assert calls == ["deliver"] * 3
        # A copy that hangs up does not cancel the delivery the others wait for.
        gate.clear()
        hung_up = asyncio.create_task(lookup.once("event-3", deliver))
        waiting = asyncio.create_task(lookup.once("event-3", deliver))
        await asyncio.sleep(0.01)
        hung_up.cancel()
        gate.set()
        with contextlib.suppress(asyncio.CancelledError):
            await hung_up
        assert await waiting == (200, "signaled") and calls == ["deliver"] * 4
    finally:
        await lookup.close()
