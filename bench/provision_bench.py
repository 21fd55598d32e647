"""Provision N subscriptions on two sandbox panels through Temporal; print throughput and panel
HTTP calls per upsert for three phases: create, steady state (nothing changed), renewal.

Baseline in the same run: the same upserts called directly (no Temporal), to show the cost of
durability. Usage: .venv/bin/python bench/provision_bench.py [--subs 1000] [--concurrency 50]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cryptography.fernet import Fernet

from activities.panels import PanelActivities
from sandbox.panel import SandboxPanel
from shop.access import ledger
from shop.access.hosts import HostService, parse_input
from shop.context import AppContext
from shop.crypto import Sealer
from shop.customers.accounts import ensure_subscription, register_user
from shop.models import GrantKind, Host
from shop.runtime.migrate import upgrade
from shop.runtime.temporal import EmbeddedTemporal, connect, free_port
from shop.settings import load_settings
from worker.main import build_worker
from workflows.provision import ProvisionInput, ProvisionSubscriptionWorkflow, provision_workflow_id


async def bounded(jobs: list[Callable[[], Awaitable[object]]], concurrency: int) -> float:
    gate = asyncio.Semaphore(concurrency)

    async def one(job: Callable[[], Awaitable[object]]) -> None:
        async with gate:
            await job()

    started = time.perf_counter()
    await asyncio.gather(*(one(job) for job in jobs))
    return time.perf_counter() - started


def row(phase: str, subs: int, seconds: float, calls: int, upserts: int) -> str:
    return f"{phase:<28} {subs / seconds:>9.1f} subs/s {seconds:>8.2f} s {calls / upserts:>7.2f} calls/upsert"


async def main(subs: int, concurrency: int, versions: list[str]) -> None:
    logging.basicConfig(level=logging.WARNING)
    work = Path(tempfile.mkdtemp(prefix="vpnshop-bench-"))
    url = f"sqlite+aiosqlite:///{work / 'shop.db'}"
    await upgrade(url)
    server = EmbeddedTemporal(port=free_port(), ui_port=None, namespace="bench")
    server.start()
    panels = [SandboxPanel(version=v) for v in versions]
    try:
        for panel in panels:
            await panel.start()
        client = await connect(server.address, "bench")
        settings = load_settings(
            _env_file=None,
            database_url=url,
            encryption_key=Fernet.generate_key().decode(),
            temporal_address=server.address,
            temporal_task_queue="bench",
            data_dir=work,
        )
        ctx = AppContext.open(settings, client)
        hosts = HostService(ctx.sessions, Sealer.from_settings(settings))
        for number, panel in enumerate(panels):
            await hosts.add(
                parse_input(
                    {
                        "name": f"h{number}",
                        "panel_url": panel.url,
                        "username": panel.username,
                        "password": panel.password,
                        "inbound_id": panel.inbound_id,
                    }
                )
            )
        ids = []
        for telegram_id in range(1, subs + 1):
            await register_user(ctx.sessions, telegram_id, None, f"u{telegram_id}")
            sub = await ensure_subscription(ctx.sessions, telegram_id)
            await ledger.grant(
                ctx.sessions, sub.id, f"b:{sub.id}:0", timedelta(days=30), GrantKind.PURCHASE, "bench"
            )
            ids.append(sub.id)
        print(f"{subs} subscriptions, hosts: {', '.join(versions)}, concurrency {concurrency}")

        def panel_calls() -> int:
            return sum(panel.calls for panel in panels)

        async def through_temporal(phase: str) -> None:
            before = panel_calls()
            seconds = await bounded(
                [
                    lambda s=s: client.execute_workflow(  # type: ignore[misc]
                        ProvisionSubscriptionWorkflow.run,
                        ProvisionInput(subscription_id=s),
                        id=provision_workflow_id(s, phase),
                        task_queue="bench",
                    )
                    for s in ids
                ],
                concurrency,
            )
            print(row(f"temporal: {phase}", subs, seconds, panel_calls() - before, subs * len(panels)))

        async def renew(round_: int) -> None:
            for s in ids:
                await ledger.grant(
                    ctx.sessions, s, f"b:{s}:{round_}", timedelta(days=30), GrantKind.PURCHASE, "bench"
                )

        async with build_worker(ctx, client, "bench"):
            await through_temporal("create")
            await through_temporal("steady")
            await renew(1)
            await through_temporal("renew")

        # Baseline: the same upserts without Temporal (one process, one pool, no durability).
        direct = PanelActivities(ctx.sessions, settings)
        async with ctx.sessions() as session:
            host_rows = [h for h in [await session.get(Host, i + 1) for i in range(len(panels))] if h]
        for phase in ("steady", "renew"):
            if phase == "renew":
                await renew(2)
            for host in host_rows:  # warm the sessions and inbound caches
                await direct.provisioner.sync(host, ids[0])
            before = panel_calls()
            seconds = await bounded(
                [lambda s=s, h=h: direct.provisioner.sync(h, s) for s in ids for h in host_rows],  # type: ignore[misc]
                concurrency,
            )
            print(
                row(f"direct (baseline): {phase}", subs, seconds, panel_calls() - before, subs * len(panels))
            )
        await direct.pool.aclose()
        await ctx.close()
    finally:
        for panel in panels:
            await panel.stop()
        server.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subs", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--versions", default="v2,v3.1", help="version mode of each sandbox host")
    args = parser.parse_args()
    asyncio.run(main(args.subs, args.concurrency, args.versions.split(",")))
