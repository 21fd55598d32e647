"""Benchmark of payments on the embedded stack (Temporal dev server with a SQLite file, SQLite shop
database, our API, a worker, the YooKassa and Telegram sandboxes, all in one machine).

    .venv/bin/python -m bench.payments_bench [--payments 200] [--duplicates 5] [--webhooks 2000]

Prints webhook-to-delivered latency (p50, p95) and sustained payments per second for a burst of
N payments (each with a double click and D duplicated webhooks), then webhook handler requests
per second for duplicate webhooks of settled payments, against /healthz in the same process
(the baseline) with the ratio.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx
from sqlalchemy import select

from shop.models import Payment, PaymentMethod, PaymentStatus
from shop.payments.service import new_payment_id, start_checkout
from shop.runtime.temporal import EmbeddedTemporal, connect, free_port
from tests.conftest import _open
from tests.factories import plan, subscriber
from tests.payments_env import SLOW_POLL, PaymentBench, payment_bench


async def _burst(bench: PaymentBench, payments: int, duplicates: int) -> None:
    ctx = bench.ctx
    offer = await plan(ctx.sessions)
    users = range(10_000, 10_000 + payments)
    for user in users:
        await subscriber(ctx.sessions, user, f"u{user}")
        bench.telegram.add_user(user, f"u{user}")
    ids = {user: new_payment_id() for user in users}
    limit = asyncio.Semaphore(40)

    async def click(user: int) -> None:
        async with limit:
            await start_checkout(ctx, user, offer.id, PaymentMethod.YOOKASSA, ids[user])

    await asyncio.gather(*(click(user) for user in users for _ in range(2)))
    bench.yookassa.webhooks.copies = duplicates
    bench.yookassa.webhooks.window = 3600.0  # YooKassa redelivers for 24 h
    paid_at: dict[str, float] = {}
    started = time.perf_counter()
    for payment_id in ids.values():
        bench.yookassa.pay(bench.yookassa.by_order(payment_id)["id"])
        paid_at[payment_id] = time.perf_counter()
    delivered_at: dict[str, float] = {}
    while len(delivered_at) < payments:
        async with ctx.sessions() as session:
            done = await session.scalars(select(Payment.id).where(Payment.status == PaymentStatus.DELIVERED))
            now = time.perf_counter()
            for payment_id in done:
                delivered_at.setdefault(payment_id, now)
        await asyncio.sleep(0.05)
    latencies = sorted(delivered_at[p] - paid_at[p] for p in ids.values())
    elapsed = max(delivered_at.values()) - started
    p95 = latencies[int(len(latencies) * 0.95) - 1]
    print(f"burst: {payments} payments x {duplicates} webhooks + double click")
    print(f"  webhook-to-delivered p50 {statistics.median(latencies) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms")
    print(f"  sustained {payments / elapsed:.1f} payments/s ({elapsed:.1f} s)")
    answers = Counter(attempt.status for attempt in bench.yookassa.webhooks.attempts)
    print(f"  webhook answers: {dict(answers)}")


async def _rps(http: httpx.AsyncClient, path: str, body: bytes | None, total: int) -> float:
    limit = asyncio.Semaphore(32)
    headers = {"X-Forwarded-For": "185.71.76.5"}

    async def one() -> None:
        async with limit:
            response = await (http.post(path, content=body, headers=headers) if body else http.get(path))
            assert response.status_code in (200, 503), response.text

    started = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(total)))
    return total / (time.perf_counter() - started)


async def _webhook_rps(bench: PaymentBench, total: int) -> None:

    settled = next(iter(bench.yookassa.payments.values()))
    body = json.dumps({"type": "notification", "event": "payment.succeeded", "object": settled}).encode()
    async with httpx.AsyncClient(base_url=bench.api, timeout=30) as http:
        health = await _rps(http, "/healthz", None, total)
        hook = await _rps(http, "/webhooks/yookassa", body, total)
    print(f"webhook handler: {hook:.0f} req/s (duplicates of settled payments), /healthz {health:.0f} req/s,")
    print(f"  ratio {hook / health:.2f}")


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        server = EmbeddedTemporal(
            port=free_port(), ui_port=None, namespace="vpnshop", db_file=Path(tmp) / "temporal.db"
        )
        server.start()
        try:
            client = await connect(server.address, "vpnshop")
            database = await _open("sqlite", f"sqlite+aiosqlite:///{tmp}/shop.db")
            async with payment_bench(database, client, "bench", **SLOW_POLL) as bench:
                await _burst(bench, args.payments, args.duplicates)
                await bench.yookassa.webhooks.drain()
                await _webhook_rps(bench, args.webhooks)
            await database.engine.dispose()
        finally:
            server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--payments", type=int, default=200)
    parser.add_argument("--duplicates", type=int, default=5)
    parser.add_argument("--webhooks", type=int, default=2000)
    asyncio.run(main(parser.parse_args()))
