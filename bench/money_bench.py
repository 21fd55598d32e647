"""Benchmark of the console's CSV exports: memory and time of the streamed export at two sizes,
beside the same export built in memory (every row fetched, then written) as the baseline.

    .venv/bin/python -m bench.money_bench [--payments 20000 200000]
        [--database-url postgresql+asyncpg://postgres@127.0.0.1:5432/vpnshop_money_bench]

For each size: a scratch PostgreSQL database (dropped at the end) seeded with customers (a third
of the payments) and payments in every status (tests/shop_seed.py); then the payments export
(`shop.money.exports.csv_rows`, the query the console streams) is read to the end, and the
baseline fetches the same query's rows at once and writes them into one string. Peak Python
memory is measured with tracemalloc around each (which slows both alike), time without it.
Prints rows, bytes, seconds and peak MB per size and way, the baseline's ratios to the streamed
export, and how each way's peak grew from the small size to the big one: streamed should stay
flat (one batch of rows at a time), the baseline grows with the data.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import time
import tracemalloc
from collections.abc import Awaitable, Callable

from bench.console_bench import drop_database, seed
from shop.db import create_engine, session_factory
from shop.money.exports import EXPORTS, cell, csv_rows

DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/vpnshop_money_bench"


async def streamed(url: str) -> tuple[int, int]:
    engine = create_engine(url)
    size, chunks = 0, 0
    async for chunk in csv_rows(session_factory(engine), "payments"):
        size += len(chunk)
        chunks += 1
    await engine.dispose()
    return size, chunks


async def buffered(url: str) -> tuple[int, int]:
    engine = create_engine(url)
    export = EXPORTS["payments"]
    async with session_factory(engine)() as session:
        rows = (await session.execute(export.query())).all()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(export.header)
    writer.writerows([cell(value) for value in row] for row in rows)
    text = buffer.getvalue()
    await engine.dispose()
    return len(text), 1


async def run(way: Callable[[str], Awaitable[tuple[int, int]]], url: str) -> tuple[int, float, float]:
    started = time.perf_counter()
    size, _ = await way(url)
    seconds = time.perf_counter() - started
    tracemalloc.start()
    await way(url)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return size, seconds, peak / 2**20


async def main(args: argparse.Namespace) -> None:
    peaks: dict[str, list[float]] = {"streamed": [], "buffered": []}
    for payments in args.payments:
        seeded = await seed(args.database_url, payments // 3, payments)
        print(f"{payments} payments seeded in {seeded:.1f} s")
        try:
            figures = {
                name: await run(way, args.database_url)
                for name, way in (("streamed", streamed), ("buffered", buffered))
            }
        finally:
            await drop_database(args.database_url)
        for name, (size, seconds, peak) in figures.items():
            peaks[name].append(peak)
            print(f"  {name:9} {size / 2**20:8.1f} MB of CSV  {seconds:6.2f} s  peak {peak:7.1f} MB")
        s, b = figures["streamed"], figures["buffered"]
        print(f"  buffered / streamed: time x{b[1] / s[1]:.2f}, peak memory x{b[2] / s[2]:.1f}")
    if len(args.payments) > 1:
        grew = args.payments[-1] / args.payments[0]
        for name, values in peaks.items():
            print(f"{name}: peak x{values[-1] / values[0]:.2f} for x{grew:.0f} the rows")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--payments", type=int, nargs="+", default=[20_000, 200_000])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    asyncio.run(main(parser.parse_args()))
