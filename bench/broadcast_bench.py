"""Operator broadcast benchmark.

Part 1 (PostgreSQL, 100,000 users): the snapshot at start (draft -> running and one row per
reachable user, one transaction), reading one batch at the end of the cursor, and the report's
counts.

Part 2 (embedded Temporal + sandbox Bot API limited to 30 messages/s with 429s): copies sent per
second by BroadcastWorkflow, with duplicates and losses counted from the sandbox, and the history
each run leaves (it continues as new every BATCHES_PER_RUN batches).

    .venv/bin/python -m bench.broadcast_bench [--users 100000] [--recipients 1000]
        [--database-url postgresql+asyncpg://postgres@127.0.0.1:5432/vpnshop_bench_broadcast]
"""

from __future__ import annotations

import argparse
import asyncio
import time

from sqlalchemy import text
from sqlalchemy.engine import make_url

from bench.paced_stack import TASK_QUEUE, paced_stack, print_pace
from shop.db import create_engine, recreate_database, session_factory
from shop.messaging import broadcasts
from shop.models import utcnow
from shop.runtime.migrate import upgrade
from workflows.broadcast import BATCH, BroadcastInput, BroadcastWorkflow, broadcast_workflow_id

OPERATOR = 1


async def part_one(url: str, count: int) -> None:
    print(f"part 1: {count:,} users in PostgreSQL ({make_url(url).database})")
    await recreate_database(url)
    await upgrade(url)
    engine = create_engine(url)
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO users (id, full_name, language, banned, trial_used, created_at, updated_at) "
                "SELECT g, 'user' || g, 'ru', g % 500 = 0, false, now(), now() FROM generate_series(1, :n) g"
            ),
            {"n": count},
        )
        await connection.execute(text("UPDATE users SET bot_blocked_at = now() WHERE id % 300 = 0"))
        await connection.execute(text("ANALYZE"))
    sessions = session_factory(engine)
    broadcast_id = await broadcasts.create_draft(sessions, OPERATOR, OPERATOR, 1, None, None)
    started = time.perf_counter()
    snapshot = await broadcasts.take_snapshot(sessions, broadcast_id, utcnow())
    snapshot_time = time.perf_counter() - started
    assert snapshot is not None
    started = time.perf_counter()
    rows = await broadcasts.batch(sessions, broadcast_id, count - 2 * BATCH, BATCH + 1)
    batch_time = time.perf_counter() - started
    started = time.perf_counter()
    await broadcasts.outcomes(sessions, broadcast_id)
    count_time = time.perf_counter() - started
    await engine.dispose()
    print(f"  snapshot (status + {snapshot.recipients:,} rows): {snapshot_time * 1000:8.1f} ms")
    print(f"  one batch of {len(rows)} at the cursor's end: {batch_time * 1000:8.1f} ms")
    print(f"  the report's counts: {count_time * 1000:8.1f} ms")


async def part_two(count: int) -> None:
    print(f"part 2: {count:,} recipients, embedded Temporal, sandbox Bot API at 30 msg/s with 429s")
    customers = range(1, count + 1)  # the operator is one of them
    async with paced_stack(customers) as (ctx, telegram):
        client = ctx.require_temporal()
        await telegram.send_text(OPERATOR, "📢 news")
        message_id = telegram.world.chats[OPERATOR][-1].message_id
        broadcast_id = await broadcasts.create_draft(ctx.sessions, OPERATOR, OPERATOR, message_id, None, None)
        workflow_id = broadcast_workflow_id(broadcast_id)
        started = time.perf_counter()
        # Small runs, so that even a thousand recipients show continue-as-new at work.
        inp = BroadcastInput(broadcast_id=broadcast_id, batches_per_run=3)
        final = await client.execute_workflow(
            BroadcastWorkflow.run, inp, id=workflow_id, task_queue=TASK_QUEUE
        )
        elapsed = time.perf_counter() - started
        runs = [run async for run in client.list_workflows(f"WorkflowId = '{workflow_id}'")]
        events = 0
        for run in runs:
            history = await client.get_workflow_handle(workflow_id, run_id=run.run_id).fetch_history()
            events = max(events, len(history.events))
        per_chat = [len([m for m in telegram.messages(user) if m.text == "📢 news"]) for user in customers]
        refused = len(telegram.calls("copyMessage")) - sum(per_chat)
    print_pace(ctx, "copies", final.sent, elapsed, per_chat, refused)
    print(f"  {len(runs)} runs of {3 * BATCH} recipients at most; the longest history: {events} events")


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--recipients", type=int, default=1000)
    parser.add_argument(
        "--database-url", default="postgresql+asyncpg://postgres@127.0.0.1:5432/vpnshop_bench_broadcast"
    )
    parser.add_argument("--part", type=int, choices=(1, 2), help="run only this part")
    args = parser.parse_args()
    if args.part in (None, 1):
        await part_one(args.database_url, args.users)
    if args.part in (None, 2):
        await part_two(args.recipients)


if __name__ == "__main__":
    asyncio.run(main())
