"""Benchmark of the console's dashboard page on a big shop, beside bare routes of the same app.

    .venv/bin/python -m bench.console_bench [--customers 100000] [--payments 300000] [--requests 200]
        [--database-url postgresql+asyncpg://postgres@127.0.0.1:5432/vpnshop_console_bench] [--no-temporal]

Creates a scratch PostgreSQL database (dropped at the end), seeds customers, subscriptions,
payments over 60 days in every status and method, and hosts (tests/shop_seed.py), starts the
embedded Temporal dev server with the worker's Schedules (the page describes each one), signs an
owner in through a one-time link, then requests, interleaved, the dashboard (`/console/`, figures
kept up to DASHBOARD_CACHE_SECONDS as operators get them), the dashboard with every figure
recomputed (`?fresh=1`), the audit page (a signed-in page with one small query) and a bare
FastAPI route added for the run, all through the app in-process (ASGI), and prints p50/p95 per
route and the dashboard's ratios to the other two.
Target: dashboard p95 under 200 ms at 100,000 customers and 300,000 payments.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import enum
import statistics
import time
from collections.abc import AsyncIterator, Callable
from decimal import Decimal

import asyncpg
import httpx
from fastapi.responses import PlainTextResponse
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.sql.schema import CallableColumnDefault, ScalarElementColumnDefault

from api.app import create_app
from shop.context import AppContext
from shop.db import create_engine, recreate_database
from shop.models import Base, Host, PanelClient, Payment, Plan, Subscription, User, utcnow
from shop.operators.signin import Signins
from shop.runtime.migrate import upgrade
from shop.runtime.temporal import EmbeddedTemporal, connect, free_port
from shop.settings import Settings, load_settings
from tests.console_client import csrf_of
from tests.shop_seed import Seeded, generate
from tests.sub_client import app_client
from worker.schedules import ensure_schedules

OWNER = 4242
ROUTES = {
    "dashboard": "/console/",  # as operators see it: figures at most DASHBOARD_CACHE_SECONDS old
    "dash fresh": "/console/?fresh=1",  # every figure recomputed for the request
    "audit page": "/console/audit",
    "bare": "/bare",
}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


async def drop_database(url: str) -> None:
    parsed = make_url(url)
    admin = create_engine(parsed.set(database="postgres").render_as_string(hide_password=False))
    async with admin.connect() as connection:
        connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
        await connection.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
    await admin.dispose()


async def copy_seeded(url: str, shop: Seeded) -> None:
    """Bulk-loads the generated shop with PostgreSQL's COPY (minutes faster than INSERTs here)."""
    parsed = make_url(url)
    connection = await asyncpg.connect(
        host=parsed.host, port=parsed.port, user=parsed.username, password=parsed.password,
        database=parsed.database,
    )  # fmt: skip
    try:
        plan = {"id": 1, "name": "Month", "duration_days": 30, "price": Decimal(199), "currency": "RUB",
                "active": True, "sort_order": 0, "created_at": shop.now}  # fmt: skip
        for model, rows in (
            (Plan, [plan]),
            (User, shop.users),
            (Subscription, shop.subscriptions),
            (Payment, shop.payments),
            (Host, shop.hosts),
            (PanelClient, shop.clients),
        ):
            defaults = _defaults(model, rows[0])
            columns = [*rows[0], *defaults]
            records = [tuple(_plain(value) for value in (*row.values(), *defaults.values())) for row in rows]
            await connection.copy_records_to_table(model.__tablename__, records=records, columns=columns)
        # Tables created by the migration with explicit ids: move the sequences past them.
        for table in ("plans", "subscriptions", "hosts", "panel_clients"):
            await connection.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )
        await connection.execute("ANALYZE")
    finally:
        await connection.close()


def _defaults(model: type[Base], row: dict[str, object]) -> dict[str, object]:
    """The model's Python-side defaults for the columns the rows leave out (COPY applies none)."""
    found: dict[str, object] = {}
    for column in model.__table__.columns:
        default = column.default
        if (
            column.name in row
            or default is None
            or not isinstance(default, ScalarElementColumnDefault | CallableColumnDefault)
        ):
            continue
        found[column.name] = default.arg(None) if isinstance(default, CallableColumnDefault) else default.arg  # type: ignore[arg-type]
    return found


def _plain(value: object) -> object:
    return value.value if isinstance(value, enum.Enum) else value


async def seed(url: str, customers: int, payments: int) -> float:
    started = time.perf_counter()
    await recreate_database(url)
    await upgrade(url)
    await copy_seeded(url, generate(utcnow(), customers, payments))
    return time.perf_counter() - started


async def interleaved(
    client: httpx.AsyncClient,
    paths: dict[str, str],
    warmup: int,
    requests: int,
    check: Callable[[str, httpx.Response], None] | None = None,
) -> dict[str, list[float]]:
    """Each path in turn, `requests` rounds after `warmup` ones; milliseconds per request. Every
    answer must be 200 (and pass `check`)."""
    timings: dict[str, list[float]] = {name: [] for name in paths}

    async def timed(path: str) -> float:
        started = time.perf_counter()
        answer = await client.get(path)
        elapsed = (time.perf_counter() - started) * 1000
        assert answer.status_code == 200, (path, answer.status_code)
        if check is not None:
            check(path, answer)
        return elapsed

    for _ in range(warmup):
        for path in paths.values():
            await timed(path)
    for _ in range(requests):
        for name, path in paths.items():
            timings[name].append(await timed(path))
    return timings


def bench_settings(url: str, **more: str) -> Settings:
    """The shop's settings for a bench run on `url`: no .env file, a throwaway encryption key."""
    return load_settings(_env_file=None, database_url=url, encryption_key="Z" * 43 + "=", **more)


@contextlib.asynccontextmanager
async def signed_in(ctx: AppContext, operator: int) -> AsyncIterator[httpx.AsyncClient]:
    """The shop's app in-process (ASGI) with a bare route added (`/bare`, the floor the pages are
    compared with), `operator` signed in through a one-time link."""
    app = create_app(ctx)

    @app.get("/bare")
    async def bare() -> PlainTextResponse:
        return PlainTextResponse("ok")

    async with app_client(app) as client:
        token = Signins(ctx.settings, ctx.sessions).link(operator).rsplit("/", 1)[1]
        signed = await client.post(f"/console/signin/{token}")
        assert signed.status_code == 303, signed.text
        yield client


async def measure(args: argparse.Namespace, temporal_address: str | None) -> dict[str, list[float]]:
    settings = bench_settings(
        args.database_url, admin_ids=str(OWNER), temporal_address=temporal_address or "none"
    )
    ctx = AppContext.open(settings)
    if temporal_address:
        ctx.temporal = await connect(temporal_address, settings.temporal_namespace)
        await ensure_schedules(ctx.temporal, settings)
    try:
        async with signed_in(ctx, OWNER) as client:
            csrf_of((await client.get("/console/")).text)  # signed in: the page has a form token
            timings = await interleaved(client, ROUTES, args.warmup, args.requests)
    finally:
        await ctx.close()
    return timings


async def main(args: argparse.Namespace) -> None:
    print(f"seeding {args.customers:,} customers and {args.payments:,} payments into {args.database_url}")
    print(f"seeded in {await seed(args.database_url, args.customers, args.payments):.1f} s")
    server = None
    try:
        if not args.no_temporal:
            server = EmbeddedTemporal(port=free_port(), ui_port=None, namespace="vpnshop")
            server.start()
        timings = await measure(args, server.address if server else None)
    finally:
        if server is not None:
            server.stop()
        await drop_database(args.database_url)
    rounds = f"{args.requests} requests per route, interleaved, after {args.warmup} warm-up rounds"
    print(f"\n{rounds} (ASGI in-process)")
    print(f"{'route':<12} {'p50 ms':>8} {'p95 ms':>8} {'mean ms':>8}")
    for name, values in timings.items():
        p50, p95 = percentile(values, 0.5), percentile(values, 0.95)
        print(f"{name:<12} {p50:8.2f} {p95:8.2f} {statistics.mean(values):8.2f}")
    for page in ("dashboard", "dash fresh"):
        p95 = percentile(timings[page], 0.95)
        for name in ("audit page", "bare"):
            print(f"{page} p95 / {name} p95: {p95 / percentile(timings[name], 0.95):.1f}x")
        print(f"target {page} p95 < 200 ms: {'met' if p95 < 200 else 'NOT met'} ({p95:.1f} ms)")


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--payments", type=int, default=300_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument(
        "--database-url", default="postgresql+asyncpg://postgres@127.0.0.1:5432/vpnshop_console_bench"
    )
    parser.add_argument("--no-temporal", action="store_true", help="leave the Schedules out of the page")
    return parser.parse_args()


if __name__ == "__main__":
    asyncio.run(main(parse()))
