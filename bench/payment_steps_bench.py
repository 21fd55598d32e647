"""CPU per payment of the shop process's database and card steps, called directly (no Temporal):
load_order, the link's status, the webhook's lookup and timeline line, record_paid, the first
host's upsert (a sandbox panel), delivered, the notices, and the card's QR PNG drawn for a new
link and again for the same link (a renewal or a retry). Prints CPU ms (time.process_time) and
SQL statements per payment for each step.

Baseline in the same run: `--baseline-tree DIR` runs the same steps on the code in DIR (e.g.
`git worktree add /tmp/base main`) in a child process, then prints both and the ratio.
Usage: .venv/bin/python bench/payment_steps_bench.py [--payments 200] [--baseline-tree DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent.parent


async def steps(payments: int) -> dict[str, tuple[float, float]]:
    """{step: (CPU ms per payment, statements per payment)} on the code first on sys.path."""
    from aiogram import Bot
    from cryptography.fernet import Fernet
    from sqlalchemy import event

    from activities.ledger import ApplyGrantInput
    from activities.panels import ClientOnHostInput, PanelActivities
    from activities.payments import (
        NotifyInput,
        PaymentActivities,
        PaymentEvent,
        PaymentRef,
        RecordPaidInput,
        SetStatusInput,
    )
    from bot.gateway import TelegramGateway
    from bot.ui import qr_png
    from sandbox.panel import SandboxPanel
    from shop.access.hosts import HostService, parse_input
    from shop.context import AppContext
    from shop.crypto import Sealer
    from shop.customers.accounts import ensure_subscription, register_user
    from shop.messaging.pacing import RateLimiter
    from shop.models import GrantKind, PaymentMethod, PaymentStatus
    from shop.payments.hint_lookup import HintLookup
    from shop.payments.service import record_payment
    from shop.payments.timeline import EventKind, note
    from shop.runtime.migrate import upgrade
    from shop.settings import load_settings
    from tests.factories import plan

    work = Path(tempfile.mkdtemp(prefix="vpnshop-steps-"))
    url = f"sqlite+aiosqlite:///{work / 'shop.db'}"
    await upgrade(url)
    panel = SandboxPanel()
    await panel.start()
    settings = load_settings(
        _env_file=None, database_url=url, encryption_key=Fernet.generate_key().decode(), data_dir=work
    )
    ctx = AppContext.open(settings)
    statements = 0

    def count(*_: Any) -> None:
        nonlocal statements
        statements += 1

    event.listen(ctx.engine.sync_engine, "before_cursor_execute", count)
    hints = HintLookup(url)
    event.listen(hints.engine.sync_engine, "before_cursor_execute", count)
    host = await HostService(ctx.sessions, Sealer.from_settings(settings)).add(
        parse_input(
            {
                "name": "h0",
                "panel_url": panel.url,
                "username": panel.username,
                "password": panel.password,
                "inbound_id": panel.inbound_id,
            }
        )
    )
    gateway = TelegramGateway(Bot("1:bench"), settings, RateLimiter(30))  # composes only, never sends
    acts = PaymentActivities(ctx.sessions, settings, ctx.storefront, {}, gateway)
    panels = PanelActivities(ctx.sessions, settings)
    owner = await ctx.storefront.current()
    offer = await plan(ctx.sessions)
    ids, subs = [], []
    for n in range(payments + 1):  # the first one warms caches and is not counted
        await register_user(ctx.sessions, 10_000 + n, None, f"u{n}")
        subs.append((await ensure_subscription(ctx.sessions, 10_000 + n)).id)
        method = PaymentMethod.YOOKASSA
        ids.append((await record_payment(ctx.sessions, owner, f"p{n:06d}", 10_000 + n, offer.id, method)).id)

    async def hint(n: int) -> None:
        found = await hints.find(PaymentMethod.YOOKASSA, f"yk-{n}", ids[n])
        assert found is not None
        await note(hints.sessions, found.id, EventKind.WEBHOOK, "yookassa: authentic", "webhook")

    async def paid(n: int) -> None:
        grant = ApplyGrantInput(
            subscription_id=subs[n], source_key=f"payment:{ids[n]}", seconds=30 * 86400,
            kind=GrantKind.PURCHASE, actor="workflow",
        )  # fmt: skip
        await acts.record_paid(RecordPaidInput(payment_id=ids[n], provider_payment_id=f"yk-{n}", grant=grant))

    links = [f"{settings.base_url}/sub/bench-token-{n:06d}-{'x' * 24}" for n in range(payments + 1)]
    plan_steps: list[tuple[str, Callable[[int], Awaitable[object]]]] = [
        ("load_order", lambda n: acts.load_order(PaymentRef(payment_id=ids[n]))),
        ("set_status pending", lambda n: acts.set_status(
            SetStatusInput(payment_id=ids[n], status=PaymentStatus.PENDING, provider_payment_id=f"yk-{n}")
        )),
        ("webhook lookup + note", hint),
        ("record_paid", paid),
        ("upsert_client", lambda n: panels.upsert_client(
            ClientOnHostInput(subscription_id=subs[n], host_id=host.id, payment_id=ids[n])
        )),
        ("set_status delivered", lambda n: acts.set_status(
            SetStatusInput(payment_id=ids[n], status=PaymentStatus.DELIVERED)
        )),
        ("compose_notices", lambda n: acts.compose_notices(
            NotifyInput(payment_id=ids[n], event=PaymentEvent.DELIVERED)
        )),
        ("card QR, new link", lambda n: asyncio.sleep(0, qr_png(links[n]))),
        ("card QR, same link", lambda n: asyncio.sleep(0, qr_png(links[n]))),
    ]  # fmt: skip
    results: dict[str, tuple[float, float]] = {}
    try:
        for name, step in plan_steps:
            await step(0)
            statements, started = 0, time.process_time()
            for n in range(1, payments + 1):
                await step(n)
            cpu = time.process_time() - started
            results[name] = (cpu * 1000 / payments, statements / payments)
    finally:
        await hints.close()
        await ctx.close()
        await panel.stop()
    return results


def child(tree: Path, payments: int) -> dict[str, tuple[float, float]]:
    """The steps on the code in `tree`, run in a fresh interpreter (its own imports)."""
    done = subprocess.run(
        [sys.executable, __file__, "--payments", str(payments), "--json", "--tree", str(tree)],
        capture_output=True,
        text=True,
        check=True,
    )
    return {k: (v[0], v[1]) for k, v in json.loads(done.stdout.splitlines()[-1]).items()}


def fastest(runs: list[dict[str, tuple[float, float]]]) -> dict[str, tuple[float, float]]:
    """Per step, the least CPU over the runs: other processes on a shared machine only add to it."""
    return {name: min(run[name] for run in runs) for name in runs[0]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--payments", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3, help="runs of each tree, alternating")
    parser.add_argument("--baseline-tree", type=Path)
    parser.add_argument("--tree", type=Path, default=HERE)
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.json:
        sys.path.insert(0, str(args.tree.resolve()))
        logging.basicConfig(level=logging.ERROR)
        print(json.dumps(asyncio.run(steps(args.payments))))
        return
    runs: dict[Path, list[dict[str, tuple[float, float]]]] = {}
    for _ in range(args.rounds):
        for tree in filter(None, (args.baseline_tree, args.tree)):
            runs.setdefault(tree, []).append(child(tree, args.payments))
    now = fastest(runs[args.tree])
    base = fastest(runs[args.baseline_tree]) if args.baseline_tree else None
    print(
        f"{args.payments} payments, SQLite; per payment: CPU ms (least of {args.rounds} runs), SQL statements"
    )
    header = f"{'step':<24} {'ms':>7} {'stmts':>6}"
    print(header + (f" {'base ms':>8} {'base st':>8} {'ratio':>6}" if base else ""))
    for name, (ms, stmts) in now.items():
        line = f"{name:<24} {ms:>7.2f} {stmts:>6.1f}"
        if base and name in base:
            line += f" {base[name][0]:>8.2f} {base[name][1]:>8.1f} {ms / base[name][0]:>6.2f}"
        print(line)
    total = sum(ms for ms, _ in now.values())
    print(
        f"{'total':<24} {total:>7.2f}"
        + (f" {'':>6} {sum(v[0] for v in base.values()):>8.2f}" if base else "")
    )


if __name__ == "__main__":
    main()
