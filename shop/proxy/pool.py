"""One MtgClient per MTG host for the life of a process, so login tokens are reused; re-made when
the host's URL or credentials change."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import AsyncIterator, Callable

from shop.crypto import Sealer
from shop.http_client import Timeouts
from shop.models import MtgHost
from shop.panel.pool import KeyedLocks
from shop.proxy.client import MtgClient, MtgCredentials


def credentials_for(host: MtgHost, sealer: Sealer) -> MtgCredentials:
    return MtgCredentials(host.panel_url, host.username, sealer.open(host.password_encrypted))


class MtgPool:
    def __init__(self, sealer: Callable[[], Sealer], timeout_seconds: float = 15.0) -> None:
        self._sealer_factory = sealer
        self._sealer: Sealer | None = None
        self.timeout = Timeouts.of(timeout_seconds)
        self._clients: dict[int, tuple[str, MtgClient]] = {}
        self._locks = KeyedLocks()

    @property
    def sealer(self) -> Sealer:
        if self._sealer is None:  # a shop without MTG hosts never needs the key
            self._sealer = self._sealer_factory()
        return self._sealer

    def client(self, host: MtgHost) -> MtgClient:
        parts = (host.panel_url, host.username, host.password_encrypted)
        fingerprint = hashlib.sha256("\x00".join(parts).encode()).hexdigest()
        cached = self._clients.get(host.id)
        if cached is not None and cached[0] == fingerprint:
            return cached[1]
        client = MtgClient(credentials_for(host, self.sealer), self.timeout)
        self._clients[host.id] = (fingerprint, client)
        if cached is not None:
            asyncio.get_running_loop().create_task(cached[1].aclose())
        return client

    @contextlib.asynccontextmanager
    async def serialised(self, subscription_id: int) -> AsyncIterator[None]:
        """One writer per customer's proxy within this process: `renew` adds days, so two runs
        reading the same expiry at once must not both add them."""
        async with self._locks.held(subscription_id):
            yield

    async def aclose(self) -> None:
        clients, self._clients = self._clients, {}
        for _, client in clients.values():
            await client.aclose()
