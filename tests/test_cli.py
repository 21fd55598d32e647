"""The `vpnshop` command as an operator runs it: real subprocesses, real ports, real signals."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
import uvloop
from temporalio.common import WorkflowIDReusePolicy

from shop.customers.accounts import ensure_subscription, register_user
from shop.db import create_engine, session_factory
from shop.models import GrantKind, Subscription
from shop.runtime import cli
from shop.runtime.temporal import connect, free_port, namespace_retention, pid_alive
from shop.settings import default_worker_processes, load_settings, physical_memory
from tests.topology import child_pids
from workflows.grant import GrantAccessInput, GrantAccessWorkflow, grant_workflow_id


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEMPORAL_", "DATABASE_", "API_"))}
    env.update(DATA_DIR=str(tmp_path / "data"), TELEGRAM_BOT_TOKEN="", LOG_LEVEL="INFO")
    env.update(extra)
    return env


def _run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shop.runtime.cli", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("variable", "value"),
    [("API_PORT", "eighty"), ("DATABASE_URL", "mysql://root@localhost/shop"), ("ADMIN_IDS", "1,two")],
)
def test_bad_setting_stops_startup_with_one_line(tmp_path: Path, variable: str, value: str) -> None:
    result = _run(["up"], _env(tmp_path, **{variable: value}), tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"vpnshop: invalid setting {variable}:")
    assert not (tmp_path / "data").exists(), "a bad setting must change nothing"


def test_scaled_role_without_cluster_address_is_refused(tmp_path: Path) -> None:
    result = _run(["worker"], _env(tmp_path), tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == "vpnshop: invalid setting TEMPORAL_ADDRESS: required by `vpnshop worker`"


class Shop:
    """One `vpnshop up` in a subprocess on free ports."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.api_port, self.temporal_port, self.ui_port = free_port(), free_port(), free_port()
        self.env = _env(
            tmp_path,
            API_PORT=str(self.api_port),
            TEMPORAL_PORT=str(self.temporal_port),
            TEMPORAL_UI_PORT=str(self.ui_port),
        )
        self.process: subprocess.Popen[str] | None = None

    @property
    def db_url(self) -> str:
        return f"sqlite+aiosqlite:///{self.tmp_path / 'data' / 'vpnshop.db'}"

    def start(self) -> None:
        log = open(self.tmp_path / "up.log", "a")  # noqa: SIM115
        # Its own process group, like a shell job, so a test can Ctrl-C the group without pytest.
        self.process = subprocess.Popen(
            [sys.executable, "-m", "shop.runtime.cli", "up"],
            env=self.env,
            cwd=self.tmp_path,
            stdout=log,
            stderr=log,
            text=True,
            start_new_session=True,
        )

    async def wait_healthy(self) -> dict[str, str]:
        deadline = time.monotonic() + 60
        async with httpx.AsyncClient() as http:
            while time.monotonic() < deadline:
                assert self.process is not None and self.process.poll() is None, self.log()
                try:
                    response = await http.get(f"http://127.0.0.1:{self.api_port}/healthz")
                    if response.status_code == 200:
                        return dict(response.json())
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.2)
        raise AssertionError(f"never healthy:\n{self.log()}")

    def temporal_children(self) -> list[int]:
        assert self.process is not None
        return child_pids(self.process.pid, "temporal")

    def worker_children(self) -> list[int]:
        assert self.process is not None
        return child_pids(self.process.pid, "worker_processes")

    def stop(self, sig: int = signal.SIGTERM) -> int:
        assert self.process is not None
        self.process.send_signal(sig)
        return self.process.wait(timeout=40)

    def log(self) -> str:
        path = self.tmp_path / "up.log"
        return path.read_text() if path.exists() else ""


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[Shop]:
    running = Shop(tmp_path)
    yield running
    if running.process and running.process.poll() is None:
        running.process.kill()
        running.process.wait()


def _wait_gone(pid: int, timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not pid_alive(pid) or Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z":
            return True
        time.sleep(0.1)
    return False


async def test_up_serves_ui_and_health_stops_cleanly_and_resumes(shop: Shop) -> None:
    shop.start()
    health = await shop.wait_healthy()
    assert health == {"status": "ok", "database": "ok", "temporal": "ok"}
    async with httpx.AsyncClient() as http:
        ui = await http.get(f"http://127.0.0.1:{shop.ui_port}/")
        console = await http.get(f"http://127.0.0.1:{shop.api_port}/console/", follow_redirects=True)
    assert ui.status_code == 200
    assert console.status_code == 200 and str(console.url).endswith("/console/signin")  # the API serves it
    [temporal_pid] = shop.temporal_children()
    assert "bot disabled: set TELEGRAM_BOT_TOKEN" in shop.log()

    client = await connect(f"127.0.0.1:{shop.temporal_port}", "vpnshop")
    assert await namespace_retention(client) >= timedelta(days=30)
    engine = create_engine(shop.db_url)
    sessions = session_factory(engine)
    await register_user(sessions, 42, "bob", "Bob")
    subscription = await ensure_subscription(sessions, 42)
    # Work accepted before the stop, due after it: the next `up` must carry it out.
    inp = GrantAccessInput(
        subscription_id=subscription.id,
        source_key="gift:resume",
        seconds=86400,
        kind=GrantKind.GIFT,
        actor="t",
    )
    await client.start_workflow(
        GrantAccessWorkflow.run,
        inp,
        id=grant_workflow_id(inp.source_key),
        task_queue="vpnshop",
        start_delay=timedelta(seconds=4),
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
    )

    assert shop.stop() == 0
    assert _wait_gone(temporal_pid), "the Temporal dev server outlived the shop"
    async with sessions() as session:
        stored = await session.get(Subscription, subscription.id)
        assert stored is not None and stored.expires_at is None, "the delayed grant ran too early"

    shop.start()
    await shop.wait_healthy()
    client = await connect(f"127.0.0.1:{shop.temporal_port}", "vpnshop")
    result = await client.get_workflow_handle_for(
        GrantAccessWorkflow.run, grant_workflow_id(inp.source_key)
    ).result()
    assert result.applied
    async with sessions() as session:
        stored = await session.get(Subscription, subscription.id)
        assert stored is not None and stored.expires_at == result.expires_at
    assert shop.stop() == 0
    await engine.dispose()


async def test_killed_shop_leaves_no_orphan_server_or_worker(shop: Shop) -> None:
    shop.env["WORKER_PROCESSES"] = "2"
    shop.start()
    await shop.wait_healthy()
    [temporal_pid] = shop.temporal_children()
    workers = shop.worker_children()
    assert len(workers) == 2
    shop.stop(signal.SIGKILL)
    assert _wait_gone(temporal_pid), "SIGKILL of the shop left the Temporal dev server running"
    for pid in workers:
        assert _wait_gone(pid), "SIGKILL of the shop left a worker process running"


async def test_a_worker_process_that_dies_brings_the_shop_down_in_order(shop: Shop) -> None:
    shop.env["WORKER_PROCESSES"] = "1"
    shop.start()
    await shop.wait_healthy()
    [temporal_pid] = shop.temporal_children()
    [worker] = shop.worker_children()
    polling = "INFO [worker 1] worker.main: worker polling task queue vpnshop"
    deadline = time.monotonic() + 60
    while polling not in shop.log():  # each process's lines say which it is
        assert time.monotonic() < deadline, shop.log()
        await asyncio.sleep(0.2)
    os.kill(worker, signal.SIGKILL)  # the OOM killer, say
    assert shop.process is not None
    assert shop.process.wait(timeout=40) == 1
    assert _wait_gone(temporal_pid)
    log = shop.log()
    assert "a worker process exited with code -9" in log
    assert log.index("API stopped") < log.index("Temporal dev server stopped")


def test_up_runs_a_worker_process_per_core_and_per_1_5_gb_unless_told(tmp_path: Path) -> None:
    gb = 2**30
    assert default_worker_processes(2, 24 * gb) == 2  # this machine
    assert default_worker_processes(8, 64 * gb) == 4
    assert default_worker_processes(2, 2 * gb) == 1  # a small server: memory decides
    assert default_worker_processes(4, 1 * gb) == 0
    assert default_worker_processes(1, 8 * gb) == 0  # one core: a process more adds nothing
    assert default_worker_processes(2, None) == 2
    settings = load_settings(_env_file=None, data_dir=tmp_path)
    assert settings.worker_process_count == default_worker_processes(os.cpu_count() or 1, physical_memory())
    assert load_settings(_env_file=None, worker_processes=3).worker_process_count == 3
    result = _run(["up"], _env(tmp_path, WORKER_PROCESSES="-1"), tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("vpnshop: invalid setting WORKER_PROCESSES:")


async def test_up_runs_the_worker_in_its_own_process_when_asked(shop: Shop) -> None:
    shop.env["WORKER_PROCESSES"] = "0"
    shop.start()
    await shop.wait_healthy()
    assert shop.worker_children() == []
    assert shop.stop() == 0
    assert "worker stopped" in shop.log()
    assert "[worker " not in shop.log()


async def test_ctrl_c_to_the_whole_job_stops_every_part_in_order(shop: Shop) -> None:
    shop.start()
    await shop.wait_healthy()
    [temporal_pid] = shop.temporal_children()
    assert shop.process is not None
    os.killpg(shop.process.pid, signal.SIGINT)  # what a terminal sends on Ctrl-C
    assert shop.process.wait(timeout=40) == 0
    assert _wait_gone(temporal_pid)
    log = shop.log()
    assert "Traceback" not in log, log
    # The server stops only after the worker and the API, so nothing in flight loses it.
    assert log.index("worker stopped") < log.index("Temporal dev server stopped")
    assert log.index("API stopped") < log.index("Temporal dev server stopped")


def test_the_cli_runs_its_commands_on_uvloop() -> None:
    """Every `vpnshop` command (up, worker, api...) runs on uvloop where it is installed, as it is
    with the shop's dependencies: the loop `_run` gives the command's coroutine."""
    seen: list[type] = []

    async def command() -> None:
        seen.append(type(asyncio.get_running_loop()))

    cli.run_process(command())
    assert seen == [uvloop.Loop]


def test_a_shop_process_freezes_its_start_and_collects_young_objects_less_often() -> None:
    """What a command's process does before its work (docs/performance.md, "The collector"); in a
    fresh interpreter, so this test process keeps CPython's defaults."""
    probe = (
        "import asyncio, gc\n"
        "from shop.runtime import cli\n"
        "before = gc.get_threshold()[0]\n"
        "cli.run_process(asyncio.sleep(0))\n"
        "print(before, gc.get_threshold()[0], gc.get_freeze_count() > 0)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["700", str(cli.YOUNG_COLLECTION), "True"]
