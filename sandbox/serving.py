"""Serve an ASGI app on a free loopback port for the length of an `async with` block."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Generator
from typing import Any

import uvicorn
from starlette.types import ASGIApp


class _QuietServer(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        # The process that embeds a simulator (pytest, a demo) owns its signals.
        yield


class Restartable:
    """A simulator on one loopback port that can go down and come back on the same port, its state
    kept (a panel outage). Subclasses set `self.app` and `self.port` (0: a free one)."""

    app: Any  # an ASGI app; typed by the subclass
    port: int

    _server: _QuietServer | None = None
    _task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._server is not None

    async def start(self) -> None:
        if self._server is not None:
            return
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # Inherited by accepted sockets: without it, uvicorn's split writes meet delayed ACKs and
        # every request takes ~40 ms on loopback.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind(("127.0.0.1", self.port))
        self.port = sock.getsockname()[1]
        sock.listen(128)
        config = uvicorn.Config(
            self.app, log_level="error", access_log=False, lifespan="off", timeout_graceful_shutdown=1
        )
        server = _QuietServer(config)
        self._server = server
        self._task = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started:
            if self._task.done():
                self._server = None
                await self._task  # surfaces the start failure
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        server, task = self._server, self._task
        self._server = self._task = None
        if server is None or task is None:
            return
        server.should_exit = True
        server.force_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def down(self) -> None:
        """Stops answering (connections refused); state survives."""
        await self.stop()

    async def up(self) -> None:
        await self.start()


@contextlib.asynccontextmanager
async def serve(app: ASGIApp, host: str = "127.0.0.1", **options: Any) -> AsyncIterator[str]:
    """Yields the base URL (`http://127.0.0.1:<port>`); the socket is bound before serving, so no race.
    `options` go to uvicorn.Config (the shop's API passes its own limits)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    port = sock.getsockname()[1]
    settings: dict[str, Any] = {"log_level": "warning", "lifespan": "off", "timeout_graceful_shutdown": 1}
    config = uvicorn.Config(app, **(settings | options))
    server = _QuietServer(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        try:
            await asyncio.wait_for(task, 5)
        except TimeoutError:
            server.force_exit = True
            await task
        sock.close()
