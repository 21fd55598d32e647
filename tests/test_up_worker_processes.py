"""`vpnshop up` as the owner runs it, its worker in two processes of its own (WORKER_PROCESSES) on
one SQLite file, against the sandboxes in their own process: payments arrive while one worker
process is SIGKILLed (which stops the shop) and while the shop is down, and after `up` starts again
every one is delivered once: one grant, one client on each panel, one access card."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from shop.context import AppContext
from shop.runtime.temporal import connect, free_port
from shop.settings import load_settings
from tests.chaos import PAYERS_FROM, Record, delivered, pay, payment_problems, stock_shop
from tests.polling import eventually
from tests.topology import (
    ADMIN,
    KEY,
    NAMESPACE,
    Role,
    Sandboxes,
    child_pids,
    start_sandboxes,
    wait_healthy,
)

pytestmark = [pytest.mark.timeout(600), pytest.mark.xdist_group("load")]

PAYMENTS = 24


def _up_env(root: Path, info: dict[str, str], api_port: int, temporal_port: int) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        "DATA_DIR": str(root / "data"),
        "API_HOST": "127.0.0.1",
        "API_PORT": str(api_port),
        "TEMPORAL_PORT": str(temporal_port),
        "TEMPORAL_UI_PORT": str(free_port()),
        "TEMPORAL_NAMESPACE": NAMESPACE,
        "WORKER_PROCESSES": "2",
        "ENCRYPTION_KEY": KEY,
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{api_port}",
        "TELEGRAM_BOT_TOKEN": info["telegram_token"],
        "TELEGRAM_API_URL": info["telegram_api_url"],
        "BOT_MODE": "polling",
        "ADMIN_IDS": str(ADMIN),
        "LOG_LEVEL": "INFO",
        "YOOKASSA_SHOP_ID": info["yookassa_shop_id"],
        "YOOKASSA_SECRET_KEY": info["yookassa_secret_key"],
        "YOOKASSA_API_URL": f"{info['yookassa_url']}/v3",
        "YOOKASSA_RECEIPT_EMAIL": "receipts@shop.example",
        "YOOKASSA_TEST_MODE": "true",
        "TRUSTED_PROXIES": "127.0.0.1/32",
    }


@contextlib.asynccontextmanager
async def _sandboxes(root: Path) -> AsyncIterator[Sandboxes]:
    process, info = await asyncio.wait_for(asyncio.to_thread(start_sandboxes, root), 120)
    sandboxes = Sandboxes(info)
    try:
        yield sandboxes
    finally:
        await sandboxes.http.aclose()
        process.terminate()
        process.wait(30)


async def test_payments_through_a_killed_worker_process_are_delivered_once(tmp_path: Path) -> None:
    api_port, temporal_port = free_port(), free_port()
    async with _sandboxes(tmp_path) as sandboxes:
        env = _up_env(tmp_path, sandboxes.info, api_port, temporal_port)
        up = Role("up", "up", env, tmp_path / "up.log")
        up.start()
        try:
            api = f"http://127.0.0.1:{api_port}"
            await wait_healthy(api, 120)
            settings = load_settings(
                _env_file=None,
                **{key.lower(): value for key, value in env.items() if key not in ("PATH", "HOME")},
                temporal_address=f"127.0.0.1:{temporal_port}",
            )
            ctx = AppContext.open(settings, await connect(settings.temporal_target, NAMESPACE))
            try:
                plan_id = await stock_shop(ctx, sandboxes, api)
                record = Record(seed=0)
                payers = iter(range(PAYERS_FROM, PAYERS_FROM + PAYMENTS))

                async def pay_next(n: int) -> None:
                    await asyncio.gather(
                        *(pay(ctx, sandboxes, record, next(payers), plan_id) for _ in range(n))
                    )

                await pay_next(PAYMENTS // 3)
                assert up.process is not None
                workers = child_pids(up.process.pid, "worker_processes")
                assert len(workers) == 2
                paying = asyncio.create_task(pay_next(PAYMENTS // 3))  # as the worker dies
                await asyncio.sleep(0.3)
                os.kill(workers[0], signal.SIGKILL)
                assert await asyncio.to_thread(up.process.wait, 60) == 1
                # While the shop is down, checkouts are clicked again and YooKassa sends its
                # webhooks again until one is answered.
                up.start()
                await wait_healthy(api, 120)
                await paying
                await pay_next(PAYMENTS - 2 * (PAYMENTS // 3))
                # A card whose send was under way in the killed process goes again once Temporal
                # times that attempt out (the paced activity's start-to-close timeout).
                await eventually(lambda: _settled(ctx, sandboxes, record), seconds=300, every=1)
                problems = await payment_problems(ctx, sandboxes, record)
                assert len(record.paid) == PAYMENTS
                assert not problems, "\n".join(problems)
            finally:
                await ctx.close()
            log = (tmp_path / "up.log").read_text()
            assert "a worker process exited with code -9" in log
            assert "[worker 2]" in log
        finally:
            up.stop()


async def _settled(ctx: AppContext, sandboxes: Sandboxes, record: Record) -> bool:
    """Every paid payment delivered, its client on every panel and its card sent."""
    if not await delivered(ctx, record):
        return False
    for index in range(len(sandboxes.info["panels"])):
        if len(await sandboxes.call(f"panel{index}", "clients")) < len(record.paid):
            return False
    for user in record.payers.values():
        if not any(m["photo"] for m in await sandboxes.call("telegram", "messages", user)):
            return False
    return True
