"""Expiry lifecycle benchmark.

Part 1 (PostgreSQL, 1,000,000 subscriptions): the reminder scan's candidate query (an index range
on subscriptions.expires_at) against the same query forced to a full table scan, and the whole
claim (query + marking rows) at one moment.

Part 2 (embedded Temporal + sandbox Bot API limited to 30 messages/s with 429s): reminders sent
per second by the ExpiryScanWorkflow, with duplicates and losses counted from the sandbox.

    .venv/bin/python -m bench.expiry_bench [--subscriptions 1000000] [--reminders 1000]
        [--database-url postgresql+asyncpg://postgres@127.0.0.1:5432/vpnshop_bench]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, text
from sqlalchemy.engine import make_url

from bench.paced_stack import TASK_QUEUE, paced_stack, print_pace
from shop.db import create_engine, recreate_database, session_factory
from shop.messaging import reminders
from shop.models import Subscription
from shop.runtime.migrate import upgrade
from shop.settings import load_settings
from shop.storefront.fields import OwnerSettings
from workflows.expiry import ExpiryScanInput, ExpiryScanWorkflow

NOW = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)


async def _seed(url: str, count: int) -> None:
    engine = create_engine(url)
    async with engine.begin() as connection:
        # Expiries spread over a year around NOW, like a shop with steady sales.
        await connection.execute(
            text(
                "INSERT INTO users (id, full_name, language, banned, trial_used, created_at, updated_at) "
                "SELECT g, 'user' || g, 'ru', false, false, now(), now() FROM generate_series(1, :n) g"
            ),
            {"n": count},
        )
        await connection.execute(
            text(
                "INSERT INTO subscriptions"
                " (id, user_id, token, expires_at, has_paid, created_at, updated_at)"
                " SELECT g, g, md5(g::text) || md5('t' || g::text),"
                " CAST(:now AS timestamptz) + (random() * 365 - 60) * interval '1 day',"
                " random() < 0.8, now(), now() FROM generate_series(1, :n) g"
            ),
            {"n": count, "now": NOW},
        )
        # Some unreachable customers, as a live shop has: banned ones and ones who blocked the bot.
        await connection.execute(text("UPDATE users SET banned = true WHERE id % 500 = 0"))
        await connection.execute(text("UPDATE users SET bot_blocked_at = now() WHERE id % 300 = 0"))
        await connection.execute(text("ANALYZE"))
    await engine.dispose()


# The candidate query of shop.messaging.reminders.claim_due, without the ORM.
CANDIDATES = (
    "SELECT s.id, s.expires_at, s.has_paid, r.mark FROM subscriptions s"
    " LEFT JOIN reminders r ON r.subscription_id = s.id AND r.expires_at = s.expires_at"
    " WHERE s.expires_at >= :low AND s.expires_at <= :high AND NOT EXISTS"
    " (SELECT 1 FROM users u WHERE u.id = s.user_id AND (u.banned OR u.bot_blocked_at IS NOT NULL))"
)


async def _time_query(
    url: str, full_scan: bool, low: datetime, high: datetime, rounds: int = 5
) -> tuple[float, int]:
    engine = create_engine(url)
    times, rows = [], 0
    async with engine.connect() as connection:
        if full_scan:
            await connection.execute(text("SET enable_indexscan = off"))
            await connection.execute(text("SET enable_bitmapscan = off"))
        for _ in range(rounds):
            started = time.perf_counter()
            rows = len((await connection.execute(text(CANDIDATES), {"low": low, "high": high})).all())
            times.append(time.perf_counter() - started)
    await engine.dispose()
    return statistics.median(times), rows


async def part_one(url: str, count: int) -> None:
    print(f"part 1: {count:,} subscriptions in PostgreSQL ({make_url(url).database})")
    await recreate_database(url)
    await upgrade(url)
    started = time.perf_counter()
    await _seed(url, count)
    print(f"  seeded in {time.perf_counter() - started:.1f} s")
    policy = OwnerSettings().reminder_policy(load_settings(_env_file=None).reminder_grace)
    low, high = policy.window(NOW)
    indexed, rows = await _time_query(url, False, low, high)
    full, full_rows = await _time_query(url, True, low, high)
    assert rows == full_rows
    print(f"  candidate query, index range : {indexed * 1000:8.1f} ms  ({rows:,} candidates)")
    print(f"  candidate query, full scan   : {full * 1000:8.1f} ms")
    print(f"  ratio full scan / index      : {full / indexed:8.1f}x")
    engine = create_engine(url)
    sessions = session_factory(engine)
    started = time.perf_counter()
    claimed = await reminders.claim_due(sessions, policy, NOW)
    claim_time = time.perf_counter() - started
    started = time.perf_counter()
    again = await reminders.claim_due(sessions, policy, NOW + timedelta(minutes=5))
    repeat_time = time.perf_counter() - started
    await engine.dispose()
    print(
        f"  first claim (query + insert) : {claim_time * 1000:8.1f} ms  ({len(claimed):,} reminders claimed)"
    )
    print(f"  repeat claim (nothing new)   : {repeat_time * 1000:8.1f} ms  ({len(again):,} still pending)")


async def part_two(count: int) -> None:
    print(f"part 2: {count:,} due reminders, embedded Temporal, sandbox Bot API at 30 msg/s with 429s")
    customers = range(1, count + 1)
    async with paced_stack(customers) as (ctx, telegram):
        expires = NOW + timedelta(hours=20)
        async with ctx.engine.begin() as connection:
            await connection.execute(
                insert(Subscription),
                [
                    {
                        "id": i,
                        "user_id": i,
                        "token": uuid.uuid4().hex,
                        "expires_at": expires,
                        "has_paid": True,
                    }
                    for i in customers
                ],
            )
        started = time.perf_counter()
        report = await ctx.require_temporal().execute_workflow(
            ExpiryScanWorkflow.run, ExpiryScanInput(now=NOW), id="bench-scan", task_queue=TASK_QUEUE
        )
        elapsed = time.perf_counter() - started
        per_chat = [len(telegram.messages(user_id)) for user_id in customers]
        refused = len(telegram.calls("sendMessage")) - sum(per_chat)
    print_pace(ctx, "reminders", report.sent, elapsed, per_chat, refused)


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--subscriptions", type=int, default=1_000_000)
    parser.add_argument("--reminders", type=int, default=1000)
    parser.add_argument(
        "--database-url", default="postgresql+asyncpg://postgres@127.0.0.1:5432/vpnshop_bench"
    )
    parser.add_argument("--part", type=int, choices=(1, 2), help="run only this part")
    args = parser.parse_args()
    if args.part in (None, 1):
        await part_one(args.database_url, args.subscriptions)
    if args.part in (None, 2):
        await part_two(args.reminders)


if __name__ == "__main__":
    asyncio.run(main())
