"""Benchmark of the console's customer and payment lists and searches on a big shop, beside a bare
route of the same app.

    .venv/bin/python -m bench.console_lists_bench [--customers 100000] [--payments 300000]
        [--requests 100] [--database-url postgresql+asyncpg://postgres@127.0.0.1:5432/vpnshop_lists_bench]

Creates a scratch PostgreSQL database (dropped at the end), seeds it with COPY as
`bench.console_bench` does (customers, subscriptions, payments in every status and method over 60
days, hosts and panel clients), marks some customers banned, blocked and invited, signs a support
operator in through a one-time link, then requests, interleaved, each list and search below and a
bare FastAPI route, through the app in-process (ASGI), and prints p50/p95 per request and each
p95's ratio to the bare route's. Target: every list and search under 200 ms p95.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
from urllib.parse import quote

import httpx
from sqlalchemy import text

from bench.console_bench import bench_settings, drop_database, interleaved, percentile, seed, signed_in
from shop.context import AppContext
from shop.db import create_engine

SUPPORT = 4243
# Customers are users 10000.. (tests/shop_seed.py); tokens t<12 digits>, panel emails c-<sub>-<host>.
MARKS = (
    "UPDATE users SET banned = true WHERE id % 100 = 0",
    "UPDATE users SET bot_blocked_at = now() WHERE id % 37 = 0",
    "UPDATE users SET referrer_id = 10000 + id % 50 WHERE id % 10 = 1 AND id >= 10050",
    # A name like a real one among the seed's "User <n>" (which all share the trigrams of "user ",
    # the worst case for a trigram index: measured too, as "cust by name").
    "UPDATE users SET full_name = 'Алиса Петрова' WHERE id = 10003",
    "ANALYZE",
)


async def routes(url: str, customers: int, payments: int) -> dict[str, str]:
    """The requests, with keys that exist in the seeded shop and deep-page cursors read from it."""
    engine = create_engine(url)
    async with engine.begin() as connection:
        for statement in MARKS:
            await connection.execute(text(statement))
        email = (
            await connection.execute(text("SELECT email FROM panel_clients ORDER BY id LIMIT 1"))
        ).scalar()
        deep_user = (
            await connection.execute(
                text("SELECT created_at, id FROM users ORDER BY created_at DESC, id DESC OFFSET :n LIMIT 1"),
                {"n": customers * 9 // 10},
            )
        ).one()
        deep_payment = (
            await connection.execute(
                text(
                    "SELECT created_at, id FROM payments ORDER BY created_at DESC, id DESC OFFSET :n LIMIT 1"
                ),
                {"n": payments * 9 // 10},
            )
        ).first()
    await engine.dispose()
    middle = 10_000 + customers // 2
    found = {
        "customers": "/console/customers",
        "cust deep page": f"/console/customers?after={quote(f'{deep_user[0].isoformat()}_{deep_user[1]}')}",
        "cust by id": f"/console/customers?q={middle}",
        "cust @username": f"/console/customers?q=%40u{customers // 3}",
        "cust by name": f"/console/customers?q=User+{customers // 4}",
        "cust name part": "/console/customers?q=%D0%9F%D0%B5%D1%82%D1%80%D0%BE%D0%B2",  # "Петров"
        "cust by token": f"/console/customers?q=t{customers // 5:012d}",
        "cust by email": f"/console/customers?q={email}",
        "cust paid": "/console/customers?state=paid",
        "cust banned": "/console/customers?state=banned",
        "cust blocked": "/console/customers?state=blocked",
        "cust referred": "/console/customers?referrer=10011",
        "customer page": f"/console/customers/{middle}",
        "payments": "/console/payments",
        "pay review": "/console/payments?status=review",
        "pay p2p wait": "/console/payments?status=p2p_waiting",
        "pay method": "/console/payments?method=cryptopay",
        "pay customer": f"/console/payments?customer={middle}",
        "pay dates+amt": "/console/payments?since=2020-01-01&until=2100-01-01&amount_min=400&amount_max=600",
        "bare": "/bare",
        # Not lists: an aggregate over every payment the filter holds, asked for with a link.
        "pay totals all": "/console/payments?totals=1",
        "pay totals p2p": "/console/payments?method=p2p&totals=1",
    }
    if deep_payment is not None:
        found["pay deep page"] = (
            f"/console/payments?after={quote(f'{deep_payment[0].isoformat()}_{deep_payment[1]}')}"
        )
    return found


def _rows_shown(path: str, answer: httpx.Response) -> None:
    """A list or a search answers with rows, not an empty list (the keys exist in the shop)."""
    if path.startswith(("/console/customers?", "/console/payments?")):
        assert "data-customer=" in answer.text or "data-payment=" in answer.text, path


async def measure(args: argparse.Namespace, paths: dict[str, str]) -> dict[str, list[float]]:
    settings = bench_settings(args.database_url, console_support_ids=str(SUPPORT), temporal_address="none")
    ctx = AppContext.open(settings)
    try:
        async with signed_in(ctx, SUPPORT) as client:
            timings = await interleaved(client, paths, args.warmup, args.requests, _rows_shown)
    finally:
        await ctx.close()
    return timings


async def main(args: argparse.Namespace) -> None:
    if not args.reuse:
        print(f"seeding {args.customers:,} customers and {args.payments:,} payments into {args.database_url}")
        print(f"seeded in {await seed(args.database_url, args.customers, args.payments):.1f} s")
    try:
        paths = await routes(args.database_url, args.customers, args.payments)
        timings = await measure(args, paths)
    finally:
        if not args.keep:
            await drop_database(args.database_url)
    rounds = f"{args.requests} requests per route, interleaved, after {args.warmup} warm-up rounds"
    print(f"\n{rounds} (ASGI in-process)")
    bare = percentile(timings["bare"], 0.95)
    print(f"{'request':<16} {'p50 ms':>8} {'p95 ms':>8} {'mean ms':>8} {'p95/bare':>9}")
    for name, values in timings.items():
        p50, p95 = percentile(values, 0.5), percentile(values, 0.95)
        print(f"{name:<16} {p50:8.2f} {p95:8.2f} {statistics.mean(values):8.2f} {p95 / bare:8.1f}x")
    lists = {
        name: percentile(values, 0.95)
        for name, values in timings.items()
        if name not in ("bare", "customer page", "pay totals all", "pay totals p2p")
    }
    worst = max(lists, key=lambda name: lists[name])
    verdict = "met" if lists[worst] < 200 else "NOT met"
    print(f"target every list/search p95 < 200 ms: {verdict} (slowest: {worst}, {lists[worst]:.1f} ms)")


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--payments", type=int, default=300_000)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument(
        "--database-url", default="postgresql+asyncpg://postgres@127.0.0.1:5432/vpnshop_lists_bench"
    )
    parser.add_argument("--keep", action="store_true", help="keep the seeded database for another run")
    parser.add_argument("--reuse", action="store_true", help="measure a database kept by --keep")
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse()))
