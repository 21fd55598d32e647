"""CPU per outbound request: the shop's HttpClient (aiohttp) against httpx, which it replaced.

    .venv/bin/python -m bench.http_client_bench [--requests 400] [--rounds 2] [--in-flight 1,20,100]

A small JSON server runs in a process of its own, so the CPU read here (`time.process_time`) is the
client's alone. Each request pair is what a paid order asks of a v3.1 panel: a lookup answered
"not found" and an add with a JSON body. The clients take turns, round after round, so both see the
same machine; prints the CPU per request of each and the ratio, httpx being the baseline.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable

import httpx

from shop.http_client import HttpClient, Timeouts

PORT = 18777
SERVER = f"""
import uvicorn
from fastapi import FastAPI

app = FastAPI()

@app.get("/panel/api/clients/get/{{email}}")
async def get(email: str) -> dict:
    return {{"success": False, "msg": "record not found", "obj": None}}

@app.post("/panel/api/clients/add")
async def add(body: dict) -> dict:
    return {{"success": True, "msg": "", "obj": None}}

uvicorn.run(app, host="127.0.0.1", port={PORT}, log_level="error")
"""
BASE = f"http://127.0.0.1:{PORT}/"
BODY = {"client": {"id": "3f1c6c1e-0000-4000-8000-000000000000", "email": "u1-s1", "enable": True}}

Pair = Callable[[int], Awaitable[None]]


async def _cpu_per_request(pair: Pair, requests: int, in_flight: int) -> float:
    gate = asyncio.Semaphore(in_flight)

    async def one(index: int) -> None:
        async with gate:
            await pair(index)

    started = time.process_time()
    await asyncio.gather(*(one(index) for index in range(requests // 2)))
    return (time.process_time() - started) / requests * 1000


async def _with_httpx(requests: int, in_flight: int) -> float:
    async with httpx.AsyncClient(base_url=BASE, timeout=15) as http:

        async def pair(index: int) -> None:
            (await http.get(f"panel/api/clients/get/u{index}")).json()
            (await http.post("panel/api/clients/add", json=BODY)).json()

        return await _cpu_per_request(pair, requests, in_flight)


async def _with_shop(requests: int, in_flight: int) -> float:
    http = HttpClient(BASE, Timeouts.of(15), cookies=True)
    try:

        async def pair(index: int) -> None:
            (await http.request("GET", f"panel/api/clients/get/u{index}")).json()
            (await http.request("POST", "panel/api/clients/add", json=BODY)).json()

        return await _cpu_per_request(pair, requests, in_flight)
    finally:
        await http.aclose()


async def _wait_for_server() -> None:
    for _ in range(100):
        try:
            async with httpx.AsyncClient() as http:
                await http.get(BASE)
            return
        except httpx.TransportError:
            await asyncio.sleep(0.1)
    raise SystemExit("the JSON server did not start")


async def _measure(requests: int, rounds: int, in_flights: list[int]) -> None:
    await _wait_for_server()
    for in_flight in in_flights:
        spent: dict[str, list[float]] = {"httpx": [], "shop": []}
        for _ in range(rounds):
            spent["httpx"].append(await _with_httpx(requests, in_flight))
            spent["shop"].append(await _with_shop(requests, in_flight))
        old, new = min(spent["httpx"]), min(spent["shop"])
        line = f"{in_flight:>4} in flight: httpx {old:.3f} ms CPU/request, shop's HttpClient {new:.3f}"
        print(f"{line} ({new / old:.2f}x; least of {rounds} rounds of {requests})")


def main() -> None:
    raw = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=raw)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--in-flight", default="1,20,100")
    args = parser.parse_args()
    in_flights = [int(n) for n in args.in_flight.split(",")]
    server = subprocess.Popen([sys.executable, "-c", SERVER])
    try:
        import uvloop  # as the shop runs

        uvloop.run(_measure(args.requests, args.rounds, in_flights))
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
