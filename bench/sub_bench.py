"""Benchmark of /sub/<token> against a bare FastAPI endpoint served by the same API process.

    .venv/bin/python -m bench.sub_bench [--subscriptions 100000] [--requests 4000] [--database-url URL]

Seeds N subscriptions with five cached links each (SQLite in a temporary directory by default;
`--database-url` for PostgreSQL, whose tables must be empty), starts the API with uvicorn in a
subprocess, loads it from this process with a minimal keep-alive HTTP/1.1 client (so the client
costs as little as possible), and prints requests per second and p50/p99 latency for the bare
endpoint, /sub with known tokens and /sub with unknown tokens, the ratio to the bare endpoint, and
the API process's resident memory.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, insert, select

from shop.db import create_engine
from shop.models import Host, PanelClient, Subscription, User, utcnow
from shop.runtime.migrate import upgrade

HOSTS = [("Netherlands", "🇳🇱"), ("Germany", "🇩🇪"), ("Finland", "🇫🇮"), ("USA", "🇺🇸"), ("Poland", "🇵🇱")]
PBK = "Z84J2IelR9ch3k8VtlVhhs5ycBUlXA7wHBWcBrjqnAw"
CHUNK = 5000
ROUNDS = 10
ROOT = Path(__file__).resolve().parent.parent


def link(client_id: str, index: int) -> str:
    return (
        f"vless://{client_id}@node{index}.example.com:443?encryption=none&flow=xtls-rprx-vision&fp=chrome"
        f"&pbk={PBK}&security=reality&sid=6ba85179e30d4fc2&sni=www.microsoft.com&spx=%2F&type=tcp#n{index}"
    )


async def seed(url: str, count: int) -> list[str]:
    await upgrade(url)
    engine = create_engine(url)
    now = utcnow()
    async with engine.begin() as connection:
        if await connection.scalar(select(func.count()).select_from(Subscription)):
            raise SystemExit("the database already has subscriptions: give the benchmark an empty one")
        result = await connection.execute(
            insert(Host).returning(Host.id),
            [
                {
                    "name": name,
                    "flag": flag,
                    "sort_order": i,
                    "panel_url": "http://127.0.0.1:9/",
                    "inbound_id": 1,
                }
                for i, (name, flag) in enumerate(HOSTS)
            ],
        )
        host_ids = [row[0] for row in result]
    tokens = [secrets.token_urlsafe(24) for _ in range(count)]
    for start in range(0, count, CHUNK):
        ids = range(start + 1, min(start + CHUNK, count) + 1)
        async with engine.begin() as connection:
            await connection.execute(
                insert(User), [{"id": 10**9 + i, "full_name": f"u{i}", "created_at": now} for i in ids]
            )
            await connection.execute(
                insert(Subscription),
                [
                    {
                        "id": i,
                        "user_id": 10**9 + i,
                        "token": tokens[i - 1],
                        "expires_at": now + timedelta(days=30),
                        "created_at": now,
                        "updated_at": now,
                    }
                    for i in ids
                ],
            )
            rows = []
            for i in ids:
                client_id = f"{i:08x}-6324-4d53-ad4f-8cda48b30811"
                for index, host_id in enumerate(host_ids):
                    rows.append(
                        {
                            "subscription_id": i,
                            "host_id": host_id,
                            "client_uuid": client_id,
                            "email": f"sub{i}-{index}",
                            "sub_id": f"s{i}",
                            "link": link(client_id, index),
                            "expiry_written": now + timedelta(days=30),
                            "enabled_written": True,
                            "upload": 1000,
                            "download": 5000,
                            "last_sync_at": now,
                        }
                    )
            await connection.execute(insert(PanelClient), rows)
    await engine.dispose()
    return tokens


def serve(url: str, port: int) -> None:
    """The API process: the real app, plus a bare endpoint as the baseline."""
    import uvicorn
    from fastapi.responses import PlainTextResponse

    from api.app import create_app
    from shop.context import AppContext
    from shop.settings import load_settings

    settings = load_settings(database_url=url, sub_rate_limit_per_minute=0, _env_file=None)
    app = create_app(AppContext.open(settings))

    @app.get("/bare")
    async def bare() -> PlainTextResponse:
        return PlainTextResponse("ok")

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


async def fetch(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, path: str) -> int:
    writer.write(f"GET {path} HTTP/1.1\r\nHost: bench\r\nUser-Agent: v2rayNG/1.9.0\r\n\r\n".encode())
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    await reader.readexactly(length)
    return status


async def load(port: int, paths: list[str], concurrency: int) -> tuple[float, list[float], dict[int, int]]:
    queue = list(reversed(paths))
    latencies: list[float] = []
    statuses: dict[int, int] = {}

    async def worker() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while queue:
                path = queue.pop()
                started = time.perf_counter()
                status = await fetch(reader, writer, path)
                latencies.append(time.perf_counter() - started)
                statuses[status] = statuses.get(status, 0) + 1
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - started, latencies, statuses


def start_api(url: str, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-m", "bench.sub_bench", "--serve", url, str(port)], env=env)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def free_port() -> int:
    from shop.runtime.temporal import free_port as pick

    return pick()


async def wait_ready(port: int, process: subprocess.Popen[bytes]) -> None:
    for _ in range(300):
        if process.poll() is not None:
            raise SystemExit("the API process exited")
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            await fetch(reader, writer, "/bare")
            writer.close()
            return
        except OSError:
            await asyncio.sleep(0.1)
    raise SystemExit("the API did not start")


@dataclass
class Measured:
    elapsed: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)

    def add(self, elapsed: float, latencies: list[float], statuses: dict[int, int]) -> None:
        self.elapsed += elapsed
        self.latencies += latencies
        for status, count in statuses.items():
            self.statuses[status] = self.statuses.get(status, 0) + count

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.elapsed

    def line(self, name: str) -> str:
        ordered = sorted(self.latencies)
        p50 = statistics.median(ordered) * 1000
        p99 = ordered[int(len(ordered) * 0.99) - 1] * 1000
        return f"{name:<22} {self.rps:>9.0f} {p50:>9.2f} {p99:>9.2f}   {self.statuses}"


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscriptions", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        url = args.database_url or f"sqlite+aiosqlite:///{scratch}/bench.db"
        began = time.perf_counter()
        tokens = await seed(url, args.subscriptions)
        took = time.perf_counter() - began
        print(f"seeded {args.subscriptions} subscriptions x {len(HOSTS)} hosts in {took:.1f} s")
        port = free_port()
        process = start_api(url, port)
        try:
            await wait_ready(port, process)
            rss_idle = rss_mb(process.pid)
            rng = random.Random(7)
            known = [f"/sub/{rng.choice(tokens)}" for _ in range(args.requests)]
            unknown = [f"/sub/{secrets.token_urlsafe(24)}" for _ in range(args.requests)]
            bare = ["/bare"] * args.requests
            await load(port, known[:500] + bare[:500], args.concurrency)  # warm-up
            # Interleaved rounds, so that other load on the machine weighs on every endpoint alike.
            results = {
                name: Measured() for name in ("bare FastAPI", "/sub (known token)", "/sub (unknown token)")
            }
            step = max(1, args.requests // ROUNDS)
            for start in range(0, args.requests, step):
                for name, paths in zip(results, (bare, known, unknown), strict=True):
                    results[name].add(*await load(port, paths[start : start + step], args.concurrency))
            print(f"{'endpoint':<22} {'req/s':>9} {'p50 ms':>9} {'p99 ms':>9}   statuses")
            for name, measured in results.items():
                print(measured.line(name))
            bare_rps, sub_rps = results["bare FastAPI"].rps, results["/sub (known token)"].rps
            print(f"/sub throughput / bare: {sub_rps / bare_rps:.2f}")
            print(f"API process RSS: {rss_idle:.1f} MB idle, {rss_mb(process.pid):.1f} MB after the load")
        finally:
            process.terminate()
            process.wait(timeout=10)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--serve":
        serve(sys.argv[2], int(sys.argv[3]))
    else:
        asyncio.run(main())
