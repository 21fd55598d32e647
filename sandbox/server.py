"""Serving a sandbox (or our API) over real HTTP on loopback, inside the caller's event loop."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

import uvicorn

from shop.temporal import free_port


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:  # the host process owns signals
        yield


@contextlib.asynccontextmanager
async def serve(app: Any, port: int | None = None, host: str = "127.0.0.1") -> AsyncIterator[str]:
    """Yields the base URL once the server accepts connections; stops it on exit."""
    port = port or free_port()
    server = _Server(uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError(f"could not serve on {host}:{port}")
        await asyncio.sleep(0.01)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        await task
