"""Soak: the scaled topology (tests/topology.py: private PostgreSQL, Temporal dev server, sandboxes
process, 3 workers, 2 APIs, 1 bot) under the chaos load of tests/chaos.py for `--minutes`, every
fault once per five minutes (SIGKILL a worker, an API, the bot; PostgreSQL and Temporal restarted;
a panel down 30 s; YooKassa answering 500). Prints a line a minute while it runs, then the
throughput per minute and every invariant.

    .venv/bin/python -m bench.soak --minutes 30 [--seed N] [--pay-every 4]

Logs of every process stay in the directory it prints. Exit status 1 when an invariant failed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import select

from shop.models import Payment, PaymentStatus
from tests.chaos import Chaos, chaos_on, invariants, settled
from tests.polling import eventually

FAULT_ROUND_MINUTES = 5


async def _progress(chaos: Chaos, started: float) -> None:
    """A line a minute: what was paid, delivered and served so far."""
    while not chaos.stopping.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(chaos.stopping.wait(), 60)
        rounds = chaos.record.sub_rounds
        print(
            f"[{(time.monotonic() - started) / 60:5.1f} min] paid {len(chaos.record.paid)}, "
            f"/sub rounds {len(rounds)} ({sum(1 for _, ok in rounds if not ok)} unanswered), "
            f"faults {len(chaos.record.faults)}",
            flush=True,
        )


async def _per_minute(chaos: Chaos, started_wall: float) -> dict[int, dict[str, float]]:
    """Throughput by minute of the run: payments delivered, /sub rounds answered, Telegram sends."""
    async with chaos.ctx.sessions() as session:
        rows = await session.execute(
            select(Payment.delivered_at).where(
                Payment.id.in_(chaos.record.paid), Payment.status == PaymentStatus.DELIVERED
            )
        )
        delivered = Counter(int((at.timestamp() - started_wall) // 60) for (at,) in rows if at is not None)
    offset = time.time() - time.monotonic()
    answered = Counter(int((t + offset - started_wall) // 60) for t, ok in chaos.record.sub_rounds if ok)
    sends_by_second = await chaos.sandboxes.call("telegram", "world.sends_per_second")
    sends: Counter[int] = Counter()
    for second, count in sends_by_second.items():
        sends[int((int(second) - started_wall) // 60)] += count
    minutes = sorted(set(delivered) | set(answered) | set(sends))
    return {
        minute: {
            "payments delivered": delivered[minute],
            "/sub rounds answered": answered[minute],
            "telegram messages": sends[minute],
        }
        for minute in minutes
        if minute >= 0
    }


async def soak(minutes: float, seed: int, pay_every: float) -> int:
    root = Path(tempfile.mkdtemp(prefix="vpnshop-soak-"))
    print(f"soak: {minutes} min, seed {seed}, logs in {root}", flush=True)
    async with chaos_on(root, seed) as (chaos, client):
        started, started_wall = time.monotonic(), time.time()
        progress = asyncio.create_task(_progress(chaos, started))
        rounds = max(1, round(minutes / FAULT_ROUND_MINUTES))
        await chaos.run(minutes * 60, pay_every=pay_every, rounds=rounds)
        await progress
        catch_up = time.monotonic()
        await eventually(lambda: settled(chaos.ctx, chaos), seconds=600, every=2)
        print(f"settled {time.monotonic() - catch_up:.0f} s after the load stopped", flush=True)
        verdict = await invariants(chaos, client)
        per_minute = await _per_minute(chaos, started_wall)
    print("\nthroughput per minute:")
    print(f"{'minute':>6} {'delivered':>10} {'/sub ok':>8} {'telegram':>9}")
    for minute, figures in per_minute.items():
        print(
            f"{minute:>6} {figures['payments delivered']:>10.0f} {figures['/sub rounds answered']:>8.0f} "
            f"{figures['telegram messages']:>9.0f}"
        )
    print("\nfigures:", verdict.figures)
    print("invariants:", "all hold" if not verdict.problems else f"{len(verdict.problems)} broken")
    for problem in verdict.problems[:100]:
        print("  -", problem)
    return 1 if verdict.problems else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--pay-every", type=float, default=4.0, help="seconds between new payments")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1_000_000)
    sys.exit(asyncio.run(soak(args.minutes, seed, args.pay_every)))


if __name__ == "__main__":
    main()
