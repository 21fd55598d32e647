"""Payments benchmark (issue 14), in production terms: the shop as `vpnshop up` runs it (API,
worker, bot, embedded Temporal dev server with a SQLite file, SQLite shop database), the sandboxes
(YooKassa, Telegram at 30 messages/s, two 3x-ui panels) and this load generator, each in a process
of its own, on this machine.

    .venv/bin/python -m bench.payments_bench [--baseline TREE] [--profile DIR] [--quick]

Phases, on one shop: one payment at a time on an idle shop (card p50); one of two hosts refusing
connections (card time, then how soon the host has the client once back); a burst of 200 paid at
once with a double click and 5 duplicate webhooks each (payments/s, card p95, shop and Temporal
CPU per payment); 10 payments/s for 60 s (card p95); webhook requests/s for duplicates of closed
payments and for hints of open ones against a bare route of the same app (a path no route serves,
under the same middleware); and the dev server's ceilings: a trivial one-activity
workflow on the same server, as many at once as it completes, and the payment's own shape with
steps that do nothing (bench/payment_shape.py), as a burst of the same size: what the server and
the SDK carry on this machine when the shop's work costs nothing. With `--baseline TREE` (a checkout
of an older commit, e.g. `git worktree add ../base 4f7a291`) the shop phases run again from that
code in the same run, for the CPU ratio. `--profile DIR` records py-spy profiles of the shop
process during each burst. The last line printed is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.worker import Worker

from bench.payments_stack import (
    HERE,
    NAMESPACE,
    Stack,
    load_average,
    sandboxes_process,
    shop_process,
)
from shop.access.hosts import HostService, parse_input
from shop.context import AppContext
from shop.crypto import Sealer
from shop.customers.accounts import register_user
from shop.models import PaymentMethod
from shop.payments.plans import ensure_plan
from shop.payments.service import new_payment_id, start_checkout
from shop.runtime.temporal import connect
from shop.settings import Settings, load_settings

YOOKASSA_ADDRESS = {"X-Forwarded-For": "185.71.76.5"}
# The bare route: a path no route serves, under the same middleware (404; nothing looked up or
# logged), present in every version of the API.
BARE = "/webhooks/no-such-provider"


def p(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(share * len(ordered)) - 1))]


class Load:
    """The load generator's view of one running shop."""

    def __init__(self, stack: Stack, ctx: AppContext, http: httpx.AsyncClient) -> None:
        self.stack, self.ctx, self.http = stack, ctx, http
        self.plan_id = 0
        self.next_user = 10_000

    async def setup(self) -> None:
        hosts = HostService(self.ctx.sessions, Sealer.from_settings(self.ctx.settings))
        for index, panel in enumerate(self.stack.sandboxes["panels"]):
            login = {"username": panel["username"], "password": panel["password"]}
            place = {"name": f"bench-{index}", "panel_url": panel["url"], "inbound_id": panel["inbound_id"]}
            await hosts.add(parse_input(login | place))
        plan = await ensure_plan(self.ctx.sessions, "Bench month", 30, Decimal("299.00"), "RUB")
        self.plan_id = plan.id
        await self.post("/webhooks", params={"url": f"{self.stack.api}/webhooks/yookassa", "copies": 5})

    async def post(self, path: str, **kwargs: Any) -> Any:
        response = await self.http.post(f"{self.stack.control}{path}", **kwargs)
        response.raise_for_status()
        return response.json()

    async def checkouts(self, count: int, clicks: int = 2) -> dict[int, str]:
        """`count` new customers, each with a checkout (clicked `clicks` times at once)."""
        users = list(range(self.next_user, self.next_user + count))
        self.next_user += count
        await self.post("/users", json=users)
        ids = {user: new_payment_id() for user in users}
        limit = asyncio.Semaphore(20)

        async def one(user: int) -> None:
            async with limit:
                await register_user(self.ctx.sessions, user, f"u{user}", f"u{user}", language="en")
                clicks_ = [
                    start_checkout(self.ctx, user, self.plan_id, PaymentMethod.YOOKASSA, ids[user])
                    for _ in range(clicks)
                ]
                await asyncio.gather(*clicks_)

        await asyncio.gather(*(one(user) for user in users))
        # A checkout's wait for its link can run out under load; the workflow still creates it.
        while True:
            if await self.post("/created", json=list(ids.values())) == len(ids):
                return ids
            await asyncio.sleep(0.2)

    async def pay_and_time_cards(self, ids: dict[int, str], rate: float | None = None) -> dict[int, float]:
        """Pays every checkout (all at once, or `rate` a second); seconds from pay to card each."""
        paid_at: dict[int, float] = {}
        cards: dict[int, float] = {}

        async def pay() -> None:
            for user, payment_id in ids.items():
                await self.post("/pay", json=[payment_id])
                paid_at[user] = time.perf_counter()
                if rate:
                    await asyncio.sleep(max(0.0, 1 / rate - 0.002))

        if rate is None:
            await self.post("/pay", json=list(ids.values()))
            now = time.perf_counter()
            paid_at = dict.fromkeys(ids, now)
        else:
            paying = asyncio.create_task(pay())
        while len(cards) < len(ids):
            waiting = [user for user in ids if user not in cards and user in paid_at]
            arrived = await self.post("/cards", json=waiting) if waiting else []
            now = time.perf_counter()
            for user in arrived:
                cards[user] = now - paid_at[user]
            await asyncio.sleep(0.05)
        if rate is not None:
            await paying
        return cards

    async def rps(self, path: str, bodies: list[bytes], headers: dict[str, str], total: int) -> float:
        limit = asyncio.Semaphore(32)

        async def one(index: int) -> None:
            async with limit:
                for attempt in range(3):
                    try:
                        response = await self.http.post(
                            f"{self.stack.api}{path}", content=bodies[index % len(bodies)], headers=headers
                        )
                        break
                    except (httpx.ReadError, httpx.RemoteProtocolError):
                        # The server closed a kept-alive connection as this request went out on it
                        # (seen once with the baseline's slower API): a webhook is sent again, as
                        # a provider would.
                        if attempt == 2:
                            raise
                assert response.status_code in (200, 404), response.text

        started = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(total)))
        return total / (time.perf_counter() - started)

    async def webhook_bodies(self, payment_ids: list[str]) -> list[bytes]:
        bodies = []
        for payment_id in payment_ids:
            obj = (await self.http.get(f"{self.stack.control}/by-order/{payment_id}")).json()
            bodies.append(
                json.dumps({"type": "notification", "event": "payment.succeeded", "object": obj}).encode()
            )
        return bodies


def profiled(
    stack: Stack, profile_dir: Path | None, name: str, seconds: int
) -> subprocess.Popen[bytes] | None:
    if profile_dir is None:
        return None
    profile_dir.mkdir(parents=True, exist_ok=True)
    out = profile_dir / f"{name}.txt"
    return subprocess.Popen(
        [
            str(Path(sys.executable).parent / "py-spy"),
            "record",
            "-p",
            str(stack.shop.pid),
            "--subprocesses",  # `up`'s worker processes (WORKER_PROCESSES)
            "-d",
            str(seconds),
            "-r",
            "50",
            "--gil",
            "-f",
            "raw",
            "-o",
            str(out),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def say(label: str, text: str) -> None:
    print(f"[{label}] {text} (load {load_average()})", flush=True)


async def singles(load: Load, args: argparse.Namespace, label: str) -> dict[str, Any]:
    """One payment at a time on an idle shop."""
    latencies = []
    for _ in range(args.singles):
        ids = await load.checkouts(1, clicks=1)
        await asyncio.sleep(1)
        latencies += list((await load.pay_and_time_cards(ids)).values())
    p50 = round(statistics.median(latencies), 3)
    say(label, f"single payment, idle shop: card p50 {p50} s ({args.singles} runs)")
    return {"single_card_p50_s": p50}


async def dead_host(load: Load, label: str) -> dict[str, Any]:
    """One of two hosts refusing connections: the card's time; then the host's, once back."""
    await load.post("/panel/1/down")
    ids = await load.checkouts(1, clicks=1)
    [card] = (await load.pay_and_time_cards(ids)).values()
    await load.post("/panel/1/up")
    back = await _host_provisioned(load.ctx, next(iter(ids)), time.perf_counter())
    say(label, f"one host down: card {card:.2f} s; the host has the client {back} s after it came back")
    return {"deadhost_card_s": round(card, 3), "deadhost_back_provisioned_s": back}


async def burst(load: Load, args: argparse.Namespace, label: str) -> tuple[dict[str, Any], list[str]]:
    ids = await load.checkouts(args.burst)
    await asyncio.sleep(2)
    spy = profiled(load.stack, args.profile, f"{label}-burst", 40)
    cpu_before, started = load.stack.cpu(), time.perf_counter()
    cards = await load.pay_and_time_cards(ids)
    elapsed = time.perf_counter() - started
    cpu_after = load.stack.cpu()
    if spy:
        spy.wait()
    latencies = list(cards.values())
    spent = zip(cpu_before, cpu_after, strict=True)
    shop, temporal, machine = (round((after - before) / args.burst * 1000, 1) for before, after in spent)
    out = {
        "burst_payments_per_s": round(args.burst / elapsed, 2),
        "burst_card_p50_s": round(p(latencies, 0.5), 2),
        "burst_card_p95_s": round(p(latencies, 0.95), 2),
        "shop_cpu_ms_per_payment": shop,
        "temporal_cpu_ms_per_payment": temporal,
        # Everything the machine did per payment (the sandboxes and this load generator too), and
        # the rate its cores could give at that cost: the ceiling of this machine, not the shop's.
        "machine_cpu_ms_per_payment": machine,
        "machine_ceiling_payments_per_s": round((os.cpu_count() or 1) * 1000 / machine, 2),
        "burst_load_average": load_average(),
    }
    say(
        label,
        f"burst of {args.burst} (double click, 5 webhooks each): {out['burst_payments_per_s']} cards/s, card "
        f"p50 {out['burst_card_p50_s']} s p95 {out['burst_card_p95_s']} s; CPU per payment: shop "
        f"{shop} ms, Temporal {temporal} ms, the whole machine {machine} ms (its {os.cpu_count()} cores: "
        f"at most {out['machine_ceiling_payments_per_s']} payments/s at that cost)",
    )
    return out, list(ids.values())


async def steady(load: Load, args: argparse.Namespace, label: str) -> dict[str, Any]:
    ids = await load.checkouts(int(args.steady_rate * args.steady_seconds), clicks=1)
    await asyncio.sleep(2)
    cards = await load.pay_and_time_cards(ids, rate=args.steady_rate)
    p95 = round(p(list(cards.values()), 0.95), 2)
    say(label, f"steady {args.steady_rate}/s for {args.steady_seconds} s: card p95 {p95} s")
    return {"steady_card_p95_s": p95}


async def webhooks(load: Load, args: argparse.Namespace, label: str, closed: list[str]) -> dict[str, Any]:
    """Requests/s against a bare route of the same app (BARE; measured before and after, averaged)."""
    dup_bodies = await load.webhook_bodies(closed[:50])
    open_bodies = await load.webhook_bodies(list((await load.checkouts(50, clicks=1)).values()))
    await asyncio.sleep(2)
    path = "/webhooks/yookassa"
    base = await load.rps(BARE, [b"{}"], YOOKASSA_ADDRESS, args.webhooks)
    dup = await load.rps(path, dup_bodies, YOOKASSA_ADDRESS, args.webhooks)
    hint = await load.rps(path, open_bodies, YOOKASSA_ADDRESS, args.webhooks // 2)
    bare = (base + await load.rps(BARE, [b"{}"], YOOKASSA_ADDRESS, args.webhooks)) / 2
    say(
        label,
        f"webhooks: duplicates of closed payments {dup:.0f} req/s, hints of open ones {hint:.0f} req/s, "
        f"bare route {bare:.0f} req/s",
    )
    return {
        "bare_route_rps": round(bare),
        "dup_webhook_rps": round(dup),
        "open_webhook_rps": round(hint),
        "dup_webhook_ratio": round(dup / bare, 2),
        "open_webhook_ratio": round(hint / bare, 2),
    }


async def shop_figures(stack: Stack, args: argparse.Namespace, label: str) -> dict[str, Any]:
    env = {k.lower(): v for k, v in stack.settings.items()}
    settings = load_settings(_env_file=None, **env, temporal_address=stack.temporal)
    ctx = AppContext.open(settings, await connect(stack.temporal, NAMESPACE))
    try:
        async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=64)) as http:
            load = Load(stack, ctx, http)
            await load.setup()
            out = await singles(load, args, label) | await dead_host(load, label)
            figures, closed = await burst(load, args, label)
            out |= figures | await steady(load, args, label)
            return out | await webhooks(load, args, label, closed)
    finally:
        await ctx.close()


async def _host_provisioned(ctx: AppContext, user_id: int, since: float, limit: float = 180) -> float | None:
    """Seconds until the subscription has a client on every enabled host (None: not within `limit`)."""
    from sqlalchemy import func, select

    from shop.models import Host, PanelClient, Subscription

    while time.perf_counter() - since < limit:
        async with ctx.sessions() as session:
            hosts = await session.scalar(select(func.count()).select_from(Host).where(Host.enabled.is_(True)))
            clients = await session.scalar(
                select(func.count())
                .select_from(PanelClient)
                .join(Subscription, Subscription.id == PanelClient.subscription_id)
                .where(Subscription.user_id == user_id)
            )
        if clients and clients >= (hosts or 0):
            return round(time.perf_counter() - since, 2)
        await asyncio.sleep(0.25)
    return None


@activity.defn
async def trivial_step(value: int) -> int:
    return value


@workflow.defn(sandboxed=False)
class CeilingWorkflow:
    @workflow.run
    async def run(self, value: int) -> int:
        return await workflow.execute_activity(
            trivial_step, value, start_to_close_timeout=timedelta(seconds=30)
        )


async def ceiling(stack: Stack, total: int) -> float:
    """Trivial one-activity workflows a second on the shop's own dev server (a worker here)."""
    client: Client = await connect(stack.temporal, NAMESPACE)
    queue = f"ceiling-{time.time_ns()}"
    async with Worker(client, task_queue=queue, workflows=[CeilingWorkflow], activities=[trivial_step]):
        limit = asyncio.Semaphore(100)

        async def one(index: int) -> None:
            async with limit:
                await client.execute_workflow(
                    CeilingWorkflow.run, index, id=f"{queue}-{index}", task_queue=queue
                )

        started = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(total)))
        return total / (time.perf_counter() - started)


async def run_tree(tree: Path, args: argparse.Namespace, label: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="payments-sandboxes-") as tmp:
        async with sandboxes_process(Path(tmp)) as sandboxes, shop_process(tree, sandboxes) as stack:
            figures = await shop_figures(stack, args, label)
            rate = await ceiling(stack, args.ceiling)
            figures["ceiling_wf_per_s"] = round(rate, 1)
            print(
                f"[{label}] dev-server ceiling: {rate:.1f} one-activity workflows/s (load {load_average()})"
            )
            if label == "today":  # the same bench code on the same server: once is enough
                figures |= await shape_ceiling(stack, args.burst, label)
            return figures


async def shape_ceiling(stack: Stack, total: int, label: str) -> dict[str, Any]:
    """The payment's shape with steps that do nothing (bench/payment_shape.py), as a burst."""
    # Here, not at the top: it names search attributes an older tree's shop does not have.
    from bench.payment_shape import shape_burst

    client: Client = await connect(stack.temporal, NAMESPACE)
    pace = Settings.model_fields["telegram_messages_per_second"].default
    shape = await shape_burst(client, stack.temporal_pid, total, pace)
    say(
        label,
        f"the payment's shape with steps that do nothing, burst of {total}: {shape.payments_per_s} "
        f"cards/s, card p95 {shape.card_p95_s} s; CPU per payment: Temporal {shape.temporal_cpu_ms} ms, "
        f"its worker {shape.worker_cpu_ms} ms, the whole machine {shape.machine_cpu_ms} ms",
    )
    return {
        "shape_payments_per_s": shape.payments_per_s,
        "shape_card_p95_s": shape.card_p95_s,
        "shape_temporal_cpu_ms_per_payment": shape.temporal_cpu_ms,
        "shape_worker_cpu_ms_per_payment": shape.worker_cpu_ms,
        "shape_machine_cpu_ms_per_payment": shape.machine_cpu_ms,
    }


def measure_in_process_of(tree: Path, label: str) -> dict[str, Any]:
    """One tree's figures, from a load generator importing that tree's code: its `shop` writes the
    rows its own schema has (an older tree's models lack newer columns). Only `bench` comes from
    here, through a directory holding nothing but a link to it, ahead of the tree on the path."""
    with tempfile.TemporaryDirectory(prefix="payments-bench-") as tmp:
        (Path(tmp) / "bench").symlink_to(HERE / "bench")
        argv = [arg for arg in sys.argv[1:] if arg != "--quick"]
        if "--baseline" in argv:
            at = argv.index("--baseline")
            del argv[at : at + 2]
        quick = ["--quick"] if "--quick" in sys.argv else []
        command = [sys.executable, "-u", "-m", "bench.payments_bench", *argv, *quick, "--tree", str(tree)]
        env = {**os.environ, "PYTHONPATH": f"{tmp}{os.pathsep}{tree}", "BENCH_LABEL": label}
        # Run from that directory: `-m` puts the working directory first on the path.
        done = subprocess.run(command, cwd=tmp, env=env, stdout=subprocess.PIPE, text=True, check=True)
    lines = done.stdout.splitlines()
    print("\n".join(lines[:-1]), flush=True)
    figures: dict[str, Any] = json.loads(lines[-1])
    return figures


async def main(args: argparse.Namespace) -> None:
    if args.tree is not None:  # a load generator for one tree (see measure_in_process_of)
        print(json.dumps(await run_tree(args.tree, args, os.environ.get("BENCH_LABEL", "today"))))
        return
    figures = measure_in_process_of(HERE, "today")
    if args.baseline:
        before = measure_in_process_of(args.baseline.resolve(), "baseline")
        for key in (
            "shop_cpu_ms_per_payment",
            "temporal_cpu_ms_per_payment",
            "machine_cpu_ms_per_payment",
            "burst_payments_per_s",
            "burst_card_p95_s",
        ):
            figures[f"baseline_{key}"] = before[key]
        figures["shop_cpu_ratio_vs_baseline"] = round(
            figures["shop_cpu_ms_per_payment"] / before["shop_cpu_ms_per_payment"], 2
        )
        now, then = figures["shop_cpu_ms_per_payment"], before["shop_cpu_ms_per_payment"]
        ratio = figures["shop_cpu_ratio_vs_baseline"]
        print(f"shop CPU per payment: {now} ms now vs {then} ms at {args.baseline} (ratio {ratio})")
    figures["load_average"] = load_average()
    print(json.dumps(figures))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, help="a checkout of older code to measure in the same run")
    parser.add_argument("--profile", type=Path, help="record py-spy profiles of the shop's burst here")
    parser.add_argument("--burst", type=int, default=200)
    parser.add_argument("--steady-rate", type=float, default=10.0)
    parser.add_argument("--steady-seconds", type=float, default=60.0)
    parser.add_argument("--singles", type=int, default=5)
    parser.add_argument("--webhooks", type=int, default=2000)
    parser.add_argument("--ceiling", type=int, default=500)
    parser.add_argument("--quick", action="store_true", help="small numbers, to try the bench out")
    parser.add_argument("--tree", type=Path, help=argparse.SUPPRESS)  # one tree's load generator
    parsed = parser.parse_args()
    if parsed.quick:
        parsed.burst, parsed.steady_seconds, parsed.singles, parsed.webhooks, parsed.ceiling = (
            30,
            5,
            2,
            300,
            100,
        )
    asyncio.run(main(parsed))
