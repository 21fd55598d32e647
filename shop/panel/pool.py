"""One PanelClient per host for the life of a worker, so panel sessions and connections are reused;
plus a short-lived cache of each host's inbound (link parameters, the flow rule)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
from collections.abc import AsyncIterator, Callable, Hashable

from shop.crypto import Sealer
from shop.http_client import Timeouts
from shop.models import Host
from shop.panel.client import PanelClient
from shop.panel.models import Inbound
from shop.panel.session import PanelCredentials

INBOUND_TTL = 60.0


def credentials_for(host: Host, sealer: Sealer) -> PanelCredentials:
    return PanelCredentials(
        url=host.panel_url,
        username=host.username,
        password=sealer.open(host.password_encrypted),
        api_token=sealer.open(host.api_token_encrypted),
        totp_secret=sealer.open(host.totp_secret_encrypted),
        verify_tls=host.verify_tls,
    )


class KeyedLocks:
    """One writer per key within this process; a key's lock is dropped when nobody waits on it."""

    def __init__(self) -> None:
        self._locks: dict[Hashable, tuple[asyncio.Lock, list[int]]] = {}

    @contextlib.asynccontextmanager
    async def held(self, key: Hashable) -> AsyncIterator[None]:
        lock, users = self._locks.setdefault(key, (asyncio.Lock(), [0]))
        users[0] += 1
        try:
            async with lock:
                yield
        finally:
            users[0] -= 1
            if users[0] == 0:
                del self._locks[key]


class PanelPool:
    def __init__(self, sealer: Callable[[], Sealer], timeout_seconds: float = 15.0) -> None:
        self._sealer_factory = sealer
        self._sealer: Sealer | None = None
        self.timeout = Timeouts.of(timeout_seconds)
        self._clients: dict[int, tuple[str, PanelClient]] = {}
        self._inbounds: dict[int, tuple[float, Inbound]] = {}
        self._locks = KeyedLocks()

    @property
    def sealer(self) -> Sealer:
        # Created on first need: a shop with no hosts never needs (or generates) a key.
        if self._sealer is None:
            self._sealer = self._sealer_factory()
        return self._sealer

    def _fingerprint(self, host: Host) -> str:
        parts = (
            host.panel_url,
            host.username,
            host.password_encrypted,
            host.api_token_encrypted,
            host.totp_secret_encrypted,
            str(host.verify_tls),
        )
        return hashlib.sha256("\x00".join(parts).encode()).hexdigest()

    def client(self, host: Host) -> PanelClient:
        fingerprint = self._fingerprint(host)
        cached = self._clients.get(host.id)
        if cached is not None and cached[0] == fingerprint:
            return cached[1]
        client = PanelClient(credentials_for(host, self.sealer), self.timeout)
        self._clients[host.id] = (fingerprint, client)
        self._inbounds.pop(host.id, None)
        if cached is not None:
            asyncio.get_running_loop().create_task(cached[1].aclose())
        return client

    async def inbound(self, host: Host, fresh: bool = False) -> Inbound:
        cached = self._inbounds.get(host.id)
        if not fresh and cached is not None and time.monotonic() - cached[0] < INBOUND_TTL:
            return cached[1]
        inbound = await self.client(host).get_inbound(host.inbound_id)
        self.remember_inbound(host, inbound)
        return inbound

    def remember_inbound(self, host: Host, inbound: Inbound) -> None:
        self._inbounds[host.id] = (time.monotonic(), inbound)

    @contextlib.asynccontextmanager
    async def serialised(self, subscription_id: int, host_id: int) -> AsyncIterator[None]:
        """One writer per client within this process (other processes are covered by re-reading
        the ledger after each write)."""
        async with self._locks.held((subscription_id, host_id)):
            yield

    def calls(self) -> int:
        return sum(client.calls for _, client in self._clients.values())

    async def aclose(self) -> None:
        clients, self._clients = self._clients, {}
        for _, client in clients.values():
            await client.aclose()
