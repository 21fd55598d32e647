"""The scaled topology as real processes: a private PostgreSQL cluster (initdb/pg_ctl in a temporary
directory, on a free port, so it can be stopped and started while others test against the machine's
own), one Temporal dev server on its SQLite file, the sandboxes in their own process
(`sandbox.stack`), 3 `vpnshop worker`, 2 `vpnshop api` and 1 `vpnshop bot` processes, each started
with the environment variables docker-compose.yaml gives it. Used by tests/test_chaos.py and
bench/soak.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from shop.runtime.temporal import EmbeddedTemporal, connect, free_port

ROOT = Path(__file__).resolve().parent.parent
NAMESPACE = "vpnshop"
KEY = "dG9wb2xvZ3ktdGVzdC1rZXktMDEyMzQ1Njc4OWFiY2Q="  # a Fernet key (32 bytes, url-safe base64)
ADMIN = 900
WORKERS, APIS = 3, 2


def child_pids(pid: int, named: str) -> list[int]:
    """The children of process `pid` whose command line holds `named` (/proc)."""
    tasks = Path(f"/proc/{pid}/task").glob("*/children")
    children = [child for task in tasks for child in task.read_text().split()]
    return [int(child) for child in children if named in Path(f"/proc/{child}/cmdline").read_text()]


def _pg_bin(name: str) -> str:
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))
    if not found:
        raise RuntimeError(f"PostgreSQL's {name} is not installed (/usr/lib/postgresql/*/bin)")
    return str(found[-1])


def can_run_private_postgres() -> bool:
    if not list(Path("/usr/lib/postgresql").glob("*/bin/initdb")):
        return False
    if os.geteuid() != 0:
        return True
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return False
    return shutil.which("runuser") is not None


def _as_postgres(command: list[str]) -> list[str]:
    """initdb and the server refuse to run as root: as root, run them as the postgres user."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


class PrivatePostgres:
    """A PostgreSQL cluster of the test's own: stop and start it at will."""

    def __init__(self) -> None:
        # Its own directory under /tmp: pytest's are private to root, where the postgres user
        # (who runs the server when the tests run as root) cannot reach.
        self.base = Path(tempfile.mkdtemp(prefix="vpnshop-pg-"))
        self.dir = self.base / "pgdata"
        self.log = self.base / "postgres.log"
        self.port = free_port()
        self.url = f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/vpnshop"

    def _run(self, *command: str) -> None:
        subprocess.run(_as_postgres(list(command)), check=True, capture_output=True, timeout=120)

    def init(self) -> None:
        self.dir.mkdir(mode=0o700)
        self.log.touch()
        if os.geteuid() == 0:
            shutil.chown(self.base, "postgres")
            shutil.chown(self.dir, "postgres")
            shutil.chown(self.log, "postgres")
        self._run(_pg_bin("initdb"), "-D", str(self.dir), "-A", "trust", "-U", "postgres", "--no-sync")
        self.start()
        psql = [shutil.which("psql") or "psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres"]
        subprocess.run([*psql, "-qc", "create database vpnshop"], check=True, capture_output=True)

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=300"
        )
        self._run(_pg_bin("pg_ctl"), "-D", str(self.dir), "-l", str(self.log), "-o", options, "-w", "start")

    def stop(self) -> None:
        self._run(_pg_bin("pg_ctl"), "-D", str(self.dir), "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        with contextlib.suppress(Exception):
            self.stop()
        shutil.rmtree(self.base, ignore_errors=True)


@dataclass
class Role:
    """One `vpnshop <command>` process; `start()` again after a kill (same environment, same log)."""

    name: str
    command: str
    env: dict[str, str]
    log: Path
    process: subprocess.Popen[bytes] | None = None
    kills: int = 0

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "shop.runtime.cli", self.command],
                env=self.env,
                cwd=self.log.parent,  # no .env of the machine's is read
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        self.kills += 1

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


@dataclass
class Sandboxes:
    """The sandbox process's URLs and its control API."""

    info: dict[str, Any]
    http: httpx.AsyncClient = field(default_factory=lambda: httpx.AsyncClient(timeout=60))

    async def call(self, target: str, call: str, *args: Any, **kwargs: Any) -> Any:
        body = {"target": target, "call": call, "args": list(args), "kwargs": kwargs}
        response = await self.http.post(f"{self.info['control']}/control", json=body)
        if response.status_code == 409:
            raise LookupError(f"{target}.{call}: {response.json()['error']}")
        response.raise_for_status()
        return response.json()["result"]

    async def set(self, target: str, attribute: str, value: Any) -> None:
        body = {"target": target, "call": attribute, "set": value}
        (await self.http.post(f"{self.info['control']}/control", json=body)).raise_for_status()


@dataclass
class Topology:
    root: Path
    postgres: PrivatePostgres
    temporal: EmbeddedTemporal
    sandboxes: Sandboxes
    env: dict[str, str]
    workers: list[Role]
    apis: list[Role]
    bot: Role
    sandbox_process: subprocess.Popen[bytes]

    @property
    def roles(self) -> list[Role]:
        return [*self.workers, *self.apis, self.bot]

    def api_url(self, index: int) -> str:
        return f"http://127.0.0.1:{self.apis[index].env['API_PORT']}"

    def restart_temporal(self) -> None:
        """The same server on the same SQLite file and port: its state survives."""
        self.temporal.stop()
        self.temporal.start()

    def logs(self) -> dict[str, str]:
        return {role.name: role.log.read_text(errors="replace") for role in self.roles}


def shop_env(info: dict[str, Any], postgres: PrivatePostgres, temporal: EmbeddedTemporal) -> dict[str, str]:
    """What docker-compose.yaml's x-shop environment sets, pointed at this machine's parts, and
    the sandboxes in place of Telegram, YooKassa and the panels."""
    # Nothing of this machine's environment but where programs are: no stray shop setting leaks in.
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/tmp"),
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": postgres.url,
        "TEMPORAL_ADDRESS": temporal.address,
        "TEMPORAL_NAMESPACE": NAMESPACE,
        "ENCRYPTION_KEY": KEY,
        "PUBLIC_BASE_URL": "https://shop.example",
        "TELEGRAM_BOT_TOKEN": info["telegram_token"],
        "ADMIN_IDS": str(ADMIN),
        "LOG_LEVEL": "INFO",
        "TELEGRAM_API_URL": info["telegram_api_url"],
        "YOOKASSA_SHOP_ID": info["yookassa_shop_id"],
        "YOOKASSA_SECRET_KEY": info["yookassa_secret_key"],
        "YOOKASSA_API_URL": f"{info['yookassa_url']}/v3",
        "YOOKASSA_RECEIPT_EMAIL": "receipts@shop.example",
        "YOOKASSA_TEST_MODE": "true",
        "TRUSTED_PROXIES": "127.0.0.1/32",  # the sandbox's webhooks say they come from YooKassa
    }
    return env


def start_sandboxes(root: Path) -> tuple[subprocess.Popen[bytes], dict[str, Any]]:
    with (root / "sandboxes.log").open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "sandbox.stack"], cwd=ROOT, stdout=subprocess.PIPE, stderr=log
        )
    assert process.stdout is not None
    return process, json.loads(process.stdout.readline())


async def wait_healthy(url: str, seconds: float = 600) -> None:
    async with httpx.AsyncClient(timeout=5) as http:
        for _ in range(int(seconds * 2)):
            with contextlib.suppress(httpx.HTTPError):
                if (await http.get(f"{url}/healthz")).status_code == 200:
                    return
            await asyncio.sleep(0.5)
    raise AssertionError(f"{url} never became healthy")


@contextlib.asynccontextmanager
async def topology(root: Path, **overrides: str) -> AsyncIterator[Topology]:
    """Everything started and the APIs healthy; everything stopped on the way out."""
    postgres = PrivatePostgres()
    await asyncio.to_thread(postgres.init)
    temporal = EmbeddedTemporal(
        port=free_port(),
        ui_port=None,
        namespace=NAMESPACE,
        db_file=root / "temporal.db",
        log_file=root / "temporal.log",
    )
    await asyncio.to_thread(temporal.start)
    sandbox_process, info = await asyncio.wait_for(asyncio.to_thread(start_sandboxes, root), 120)
    env = shop_env(info, postgres, temporal) | overrides
    migrate = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "shop.runtime.cli", "migrate"],
        env=env,
        cwd=root,
        capture_output=True,
        timeout=300,
    )
    assert migrate.returncode == 0, migrate.stderr.decode()
    workers = [Role(f"worker{i}", "worker", env, root / f"worker{i}.log") for i in range(WORKERS)]
    apis = [
        Role(
            f"api{i}",
            "api",
            env | {"API_HOST": "127.0.0.1", "API_PORT": str(free_port())},
            root / f"api{i}.log",
        )
        for i in range(APIS)
    ]
    bot = Role("bot", "bot", env, root / "bot.log")
    topo = Topology(root, postgres, temporal, Sandboxes(info), env, workers, apis, bot, sandbox_process)
    try:
        for role in topo.roles:
            role.start()
        for index in range(APIS):
            await wait_healthy(topo.api_url(index))
        yield topo
    finally:
        for role in topo.roles:
            role.stop()
        await topo.sandboxes.http.aclose()
        sandbox_process.terminate()
        sandbox_process.wait(30)
        with contextlib.suppress(Exception):
            temporal.stop()
        if (postgres.log).exists():
            shutil.copy(postgres.log, root / "postgres.log")
        postgres.remove()


async def shop_client(topo: Topology) -> Any:
    return await connect(topo.temporal.address, NAMESPACE)
