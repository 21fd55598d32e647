"""The processes `bench.payments_bench` measures: the sandboxes (`bench.payments_sandboxes`) and the
shop as `vpnshop up` runs it (API, worker, bot and the embedded Temporal dev server in one process
tree), each in a process of its own, from any checkout of the code (`tree`), so the same run can
measure an older commit beside this one. The load generator is the process that opens them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from cryptography.fernet import Fernet

from shop.runtime.temporal import free_port

HERE = Path(__file__).resolve().parent.parent
NAMESPACE = "vpnshop"
OPERATOR = 900


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process so far (/proc/<pid>/stat), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """CPU time every process of the machine has spent so far, summed over its cores (/proc/stat:
    user, nice, system, irq, softirq; not idle, I/O wait or time taken by the hypervisor)."""
    user, nice, system, _idle, _iowait, irq, softirq = Path("/proc/stat").read_text().split()[1:8]
    busy = int(user) + int(nice) + int(system) + int(irq) + int(softirq)
    return busy / os.sysconf("SC_CLK_TCK")


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def is_temporal(pid: int) -> bool:
    return "temporal" in Path(f"/proc/{pid}/cmdline").read_text()


@dataclass
class Stack:
    tree: Path
    data_dir: Path
    sandboxes: dict[str, Any]
    settings: dict[str, str]  # the shop's settings, as environment variables
    api: str
    temporal: str
    shop: subprocess.Popen[bytes]
    temporal_pid: int

    @property
    def control(self) -> str:
        return str(self.sandboxes["control"])

    def shop_pids(self) -> list[int]:
        """`up`'s own process and its worker processes (WORKER_PROCESSES), not the Temporal server."""
        return [self.shop.pid, *(pid for pid in children(self.shop.pid) if pid != self.temporal_pid)]

    def cpu(self) -> tuple[float, float, float]:
        """(the shop's processes, Temporal dev server, the whole machine) CPU seconds so far."""
        shop = sum(cpu_seconds(pid) for pid in self.shop_pids())
        return shop, cpu_seconds(self.temporal_pid), machine_busy_seconds()


def _settings_env(
    data_dir: Path, sandboxes: dict[str, Any], api_port: int, temporal_port: int
) -> dict[str, str]:
    return {
        "DATA_DIR": str(data_dir),
        "DATABASE_URL": "",
        "TEMPORAL_PORT": str(temporal_port),
        "TEMPORAL_UI_PORT": str(free_port()),
        "TEMPORAL_NAMESPACE": NAMESPACE,
        "API_HOST": "127.0.0.1",
        "API_PORT": str(api_port),
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{api_port}",
        "ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "TELEGRAM_BOT_TOKEN": sandboxes["telegram_token"],
        "TELEGRAM_API_URL": sandboxes["telegram_api_url"],
        "BOT_MODE": "polling",
        "ADMIN_IDS": str(OPERATOR),
        "YOOKASSA_SHOP_ID": sandboxes["yookassa_shop_id"],
        "YOOKASSA_SECRET_KEY": sandboxes["yookassa_secret_key"],
        "YOOKASSA_API_URL": f"{sandboxes['yookassa_url']}/v3",
        "YOOKASSA_RECEIPT_EMAIL": "receipts@bench.invalid",
        "YOOKASSA_TEST_MODE": "true",
        "TRUSTED_PROXIES": "127.0.0.1/32",
        "LOG_LEVEL": "WARNING",
    }


async def _wait_for(what: str, check: Any, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            if await check():
                return
        await asyncio.sleep(0.25)
    raise RuntimeError(f"{what} did not come up within {seconds:.0f} s")


@contextlib.asynccontextmanager
async def sandboxes_process(workdir: Path) -> AsyncIterator[dict[str, Any]]:
    ready = workdir / "sandboxes.json"
    command = [sys.executable, "-m", "bench.payments_sandboxes", str(ready)]
    env = {**os.environ, "PYTHONPATH": str(HERE)}  # today's sandboxes, whichever tree is measured
    process = subprocess.Popen(command, cwd=HERE, env=env)  # noqa: ASYNC220 (started once)
    try:
        await _wait_for("the sandboxes", lambda: asyncio.sleep(0, ready.exists()), 60)
        yield json.loads(ready.read_text())
    finally:
        process.terminate()
        process.wait(10)


@contextlib.asynccontextmanager
async def shop_process(tree: Path, sandboxes: dict[str, Any]) -> AsyncIterator[Stack]:
    """`vpnshop up` from `tree` (its own code on PYTHONPATH), against the sandboxes."""
    with tempfile.TemporaryDirectory(prefix="payments-bench-") as tmp:
        data_dir = Path(tmp) / "data"
        api_port, temporal_port = free_port(), free_port()
        settings = _settings_env(data_dir, sandboxes, api_port, temporal_port)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TEMPORAL_", "DATABASE_"))}
        env |= settings | {"PYTHONPATH": str(tree)}
        log = (Path(tmp) / "shop.log").open("wb")
        command = [sys.executable, "-m", "shop.runtime.cli", "up"]
        shop = subprocess.Popen(command, cwd=tmp, env=env, stdout=log, stderr=log)  # noqa: ASYNC220
        api = f"http://127.0.0.1:{api_port}"
        try:
            async with httpx.AsyncClient(timeout=5) as http:

                async def healthy() -> bool:
                    return (await http.get(f"{api}/healthz")).status_code == 200

                await _wait_for("the shop", healthy, 180)
            temporal = [pid for pid in children(shop.pid) if is_temporal(pid)]
            yield Stack(
                tree, data_dir, sandboxes, settings, api, f"127.0.0.1:{temporal_port}", shop, temporal[0]
            )
        finally:
            shop.send_signal(signal.SIGTERM)
            try:
                shop.wait(60)
            except subprocess.TimeoutExpired:
                shop.kill()
            log.close()
