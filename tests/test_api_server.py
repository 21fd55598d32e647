"""The API's HTTP server as an attacker meets it: real sockets, the shop's own server settings."""

from __future__ import annotations

import asyncio
import contextlib
import resource
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import httpx
from sqlalchemy import func, select

from api.app import create_app
from api.server import ServerLimits, server_options
from sandbox.serving import serve
from shop.context import AppContext
from shop.models import Payment
from shop.runtime.processes import run_api
from shop.runtime.temporal import EmbeddedTemporal, free_port, port_open
from tests.conftest import TEST_KEY, Database, make_context
from tests.polling import eventually
from tests.test_cli import _env

YOOKASSA_IP = "185.71.76.1"


@contextlib.asynccontextmanager
async def running_api(ctx: AppContext) -> AsyncIterator[str]:
    """`run_api` as `vpnshop up` runs it, on the port in ctx.settings."""
    stop = asyncio.Event()
    task = asyncio.create_task(run_api(ctx, stop))
    try:
        while not port_open(ctx.settings.api_port):
            assert not task.done(), task.result()
            await asyncio.sleep(0.05)
        yield f"http://127.0.0.1:{ctx.settings.api_port}"
    finally:
        stop.set()
        await task


async def test_forwarded_for_from_loopback_is_ignored_without_trusted_proxies(sqlite_db: Database) -> None:
    ctx = make_context(sqlite_db, None, "unused", api_port=free_port())
    notification = {"event": "payment.succeeded", "object": {"id": "2d1f-forged", "status": "succeeded"}}
    async with running_api(ctx) as api, httpx.AsyncClient(base_url=api) as http:
        # A local tunnel or proxy passes the header through: it must not make us a YooKassa address.
        forged = await http.post(
            "/webhooks/yookassa", json=notification, headers={"X-Forwarded-For": YOOKASSA_IP}
        )
    assert forged.status_code == 403, forged.text
    async with sqlite_db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Payment)) == 0


async def _read_until_closed(reader: asyncio.StreamReader) -> bytes:
    received = b""
    async with asyncio.timeout(10):
        while chunk := await reader.read(4096):
            received += chunk
    return received


async def test_headers_that_never_finish_are_dropped_also_between_keep_alive_requests(
    sqlite_db: Database,
) -> None:
    app = create_app(make_context(sqlite_db, None, "unused"))
    async with serve(app, **server_options(ServerLimits(header_seconds=0.5, keep_alive_seconds=30))) as api:
        host, port = api.removeprefix("http://").split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: sh")  # and nothing more
        assert await _read_until_closed(reader) == b""
        writer.close()

        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(b"GET /nothing HTTP/1.1\r\nHost: shop\r\n\r\n")
        first = await reader.readuntil(b"\r\n\r\n")
        assert first.startswith(b"HTTP/1.1 404"), first
        writer.write(b"GET /nothing HTTP/1.1\r\n")  # the next request on the connection stalls
        rest = await _read_until_closed(reader)
        assert b"HTTP/1.1" not in rest.split(b"\r\n\r\n", 1)[-1], "the stalled request was answered"
        writer.close()


def _says(log_path: Path, line: str) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return line in await asyncio.to_thread(log_path.read_text)

    return check


def _low_descriptor_limit() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (640, 640))


def _start_up(env: dict[str, str], cwd: Path, log_path: Path) -> subprocess.Popen[bytes]:
    with open(log_path, "w") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "shop.runtime.cli", "up"],
            env=env,
            cwd=cwd,
            stdout=log,
            stderr=log,
            preexec_fn=_low_descriptor_limit,
        )


async def test_a_flood_of_idle_sockets_does_not_lock_customers_out(
    tmp_path: Path, temporal_server: EmbeddedTemporal
) -> None:
    """`vpnshop up` with 640 descriptors meets 1,000 idle sockets: customers are still served and the log
    says so once, with no traceback."""
    api_port = free_port()
    env = _env(
        tmp_path,
        API_PORT=str(api_port),
        TEMPORAL_ADDRESS=temporal_server.address,
        TEMPORAL_TASK_QUEUE=f"flood-{uuid.uuid4().hex[:8]}",
        ENCRYPTION_KEY=TEST_KEY,
    )
    log_path = tmp_path / "up.log"
    process = _start_up(env, tmp_path, log_path)
    idle: list[socket.socket] = []
    try:
        base = f"http://127.0.0.1:{api_port}"
        async with httpx.AsyncClient(base_url=base, timeout=10) as http:
            deadline = time.monotonic() + 60
            while not port_open(api_port):
                assert process.poll() is None and time.monotonic() < deadline, log_path.read_text()
                await asyncio.sleep(0.2)
            assert (await http.get("/healthz")).status_code == 200
            for _ in range(1000):
                idle.append(socket.create_connection(("127.0.0.1", api_port)))
            async with httpx.AsyncClient(base_url=base, timeout=10) as customer:
                served = await customer.get("/healthz")
            assert served.status_code == 200, log_path.read_text()
            for sock in idle:
                sock.close()
            await eventually(_says(log_path, "API load back to normal"), seconds=30)
            assert (await http.get("/healthz")).status_code == 200
    finally:
        for sock in idle:
            sock.close()
        process.terminate()
        process.wait(timeout=30)
    text = log_path.read_text()
    assert text.count("API overloaded") == 1, text
    assert "Traceback" not in text and "out of file descriptors" not in text, text
