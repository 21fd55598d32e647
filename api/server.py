"""The HTTP server's own limits: who may hold a connection, and for how long.

uvicorn keeps a connection that never finishes its headers for ever, and accepts sockets until the
process runs out of descriptors (then every accept fails and real clients time out). Here:
- a request's headers must arrive within `header_seconds` (also between keep-alive requests);
- at most `max_connections` are open, well under the descriptor limit; past it the oldest
  connection still waiting for its headers is dropped for the newcomer, so a flood of idle sockets
  costs the attacker their sockets and not the customers theirs; overload is logged once per episode;
- X-Forwarded-For is never believed by uvicorn itself: only TRUSTED_PROXIES decides (api/client_ip.py).
"""

from __future__ import annotations

import asyncio
import logging
import resource
import time
from dataclasses import dataclass, field
from typing import Any

import h11
import uvicorn
from starlette.types import ASGIApp
from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger("vpnshop.api")
DESCRIPTORS_KEPT = 256  # for the database, Temporal, the panels and the bot beside the API
# asyncio accepts up to `backlog` sockets per loop turn before any of them is looked at, and a dropped
# socket's descriptor is freed two turns later: the connection limit leaves room for a few such
# batches under the descriptor limit, so accept() itself never runs out.
BACKLOG = 32
ACCEPT_HEADROOM = 4 * BACKLOG


def default_max_connections() -> int:
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return 4096
    return max(16, min(4096, soft - DESCRIPTORS_KEPT - ACCEPT_HEADROOM))


class _AcceptErrors(logging.Filter):
    """asyncio logs a traceback for every failed accept(); one line a minute says the same."""

    MESSAGE = "socket.accept() out of system resource"

    def __init__(self) -> None:
        super().__init__()
        self.last = -60.0

    def filter(self, record: logging.LogRecord) -> bool:
        if not str(record.msg).startswith(self.MESSAGE):
            return True
        now = time.monotonic()
        if now - self.last < 60:
            return False
        self.last = now
        record.msg, record.args, record.exc_info = (
            "API out of file descriptors: new connections wait (logged at most once a minute)",
            (),
            None,
        )
        return True


def quiet_accept_errors() -> None:
    asyncio_log = logging.getLogger("asyncio")
    if not any(isinstance(f, _AcceptErrors) for f in asyncio_log.filters):
        asyncio_log.addFilter(_AcceptErrors())


@dataclass(frozen=True)
class ServerLimits:
    header_seconds: float = 10.0
    keep_alive_seconds: int = 5
    max_connections: int = field(default_factory=default_max_connections)


class Overload:
    """Logs the start and the end of an overload once each, however many sockets it concerns."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.dropped = 0
        self.active = False

    def drop(self) -> None:
        self.dropped += 1
        if not self.active:
            self.active = True
            log.warning(
                "API overloaded: more than %d connections open; dropping those idle longest "
                "(logged once until it clears)",
                self.limit,
            )

    def settle(self, open_connections: int) -> None:
        if self.active and open_connections < self.limit * 3 // 4:
            log.warning("API load back to normal: %d connections were dropped", self.dropped)
            self.active, self.dropped = False, 0


def protocol_for(limits: ServerLimits) -> type[H11Protocol]:
    overload = Overload(limits.max_connections)

    class GuardedProtocol(H11Protocol):
        _waiting_since = 0.0
        _header_timer: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._await_headers()
            if len(self.connections) > limits.max_connections:
                overload.drop()
                self._idlest().transport.close()

        def connection_lost(self, exc: Exception | None) -> None:
            self._stop_header_timer()
            super().connection_lost(exc)
            overload.settle(len(self.connections))

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing():
                self._await_headers()

        def _waiting_for_headers(self) -> bool:
            return self.conn.their_state is h11.IDLE and (self.cycle is None or self.cycle.response_complete)

        def _idlest(self) -> H11Protocol:
            waiting = [
                c for c in self.connections if isinstance(c, GuardedProtocol) and c._waiting_for_headers()
            ]
            return min(waiting, key=lambda c: c._waiting_since) if waiting else self

        def _await_headers(self) -> None:
            self._stop_header_timer()
            self._waiting_since = time.monotonic()
            self._header_timer = self.loop.call_later(limits.header_seconds, self._headers_due)

        def _stop_header_timer(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
                self._header_timer = None

        def _headers_due(self) -> None:
            self._header_timer = None
            if self._waiting_for_headers() and not self.transport.is_closing():
                self.transport.close()

    return GuardedProtocol


def server_options(limits: ServerLimits | None = None) -> dict[str, Any]:
    """uvicorn.Config's keywords for the API, but where it listens."""
    limits = limits or ServerLimits()
    quiet_accept_errors()
    return {
        "http": protocol_for(limits),
        "ws": "none",
        "lifespan": "on",
        "log_level": "warning",
        "access_log": False,
        "server_header": False,
        # uvicorn would rewrite the client address from X-Forwarded-For for loopback peers.
        "proxy_headers": False,
        "forwarded_allow_ips": "",
        "timeout_keep_alive": limits.keep_alive_seconds,
        "backlog": BACKLOG,
    }


def server_config(app: ASGIApp, host: str, port: int, limits: ServerLimits | None = None) -> uvicorn.Config:
    return uvicorn.Config(app, host=host, port=port, **server_options(limits))
