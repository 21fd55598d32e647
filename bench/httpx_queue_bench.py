"""How long one httpx client stalls the event loop when many requests queue on it.

    .venv/bin/python -m bench.httpx_queue_bench [--sizes 100,300,1000]

httpcore re-assigns every queued request to a connection whenever one frees up, which is quadratic
in the queue. That stalled the payments burst (1,000 sandbox webhooks on one client) for close to
a minute, so the sandbox's webhook sender bounds its concurrency; our worker's clients see at
most its 100 activity slots. Prints, per queue size, the wall time and the longest loop stall,
with the ratio to the smallest size as the baseline.
"""

from __future__ import annotations

import argparse
import asyncio
import time

import httpx
from fastapi import FastAPI

from sandbox.serving import serve


def _app() -> FastAPI:
    app = FastAPI()

    @app.post("/hook")
    async def hook() -> dict[str, bool]:
        await asyncio.sleep(0.01)  # a handler that does a little I/O
        return {"ok": True}

    return app


async def _run(size: int) -> tuple[float, float]:
    stall, done = 0.0, asyncio.Event()

    async def watch() -> None:
        nonlocal stall
        while not done.is_set():
            started = time.monotonic()
            await asyncio.sleep(0.05)
            stall = max(stall, time.monotonic() - started - 0.05)

    async with serve(_app()) as url, httpx.AsyncClient(timeout=300) as http:
        watcher = asyncio.create_task(watch())
        started = time.monotonic()
        await asyncio.gather(*(http.post(f"{url}/hook") for _ in range(size)))
        wall = time.monotonic() - started
        done.set()
        await watcher
    return wall, stall


async def main(sizes: list[int]) -> None:
    baseline: tuple[float, float] | None = None
    for size in sizes:
        wall, stall = await _run(size)
        baseline = baseline or (wall, max(stall, 1e-3))
        print(
            f"{size:>5} requests at once: {wall:6.1f} s wall ({wall / baseline[0]:5.1f}x), "
            f"longest loop stall {stall * 1000:7.0f} ms ({stall / baseline[1]:6.1f}x)"
        )


if __name__ == "__main__":
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=formatter)
    parser.add_argument("--sizes", default="100,300,1000")
    args = parser.parse_args()
    asyncio.run(main([int(size) for size in args.sizes.split(",")]))
