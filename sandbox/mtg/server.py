"""Run a sandbox MTG panel on a loopback port, in the caller's event loop, over real HTTP."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from sandbox.mtg.app import MtgApp
from sandbox.mtg.state import MtgState, User
from sandbox.panel.faults import Faults
from sandbox.serving import Restartable


class SandboxMtg(Restartable):
    """One simulated MTG panel with two nodes (`n1` busier than `n2` unless told otherwise)."""

    def __init__(
        self,
        username: str = "admin",
        password: str = "mtg-secret",
        token_ttl: int = 3600,
        nodes: int = 2,
        port: int = 0,
    ) -> None:
        self.state = MtgState()
        for number in range(1, nodes + 1):
            self.state.add_node(
                f"n{number}", f"mtg{number}.example.net", 443, base_load=10 * (nodes - number)
            )
        self.faults = Faults()
        self.app = MtgApp(self.state, self.faults, username, password, token_ttl)
        self.username, self.password = username, password
        self.port = port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def expire_tokens(self) -> None:
        """Every login token dies, as after the panel's token lifetime or a restart."""
        self.app.expire_tokens()

    def user(self, name: str) -> User | None:
        return self.state.users.get(name)

    def link(self, name: str) -> str:
        return self.state.link(self.state.users[name])

    async def __aenter__(self) -> SandboxMtg:
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.stop()


@contextlib.asynccontextmanager
async def sandbox_mtg(**options: Any) -> AsyncIterator[SandboxMtg]:
    mtg = SandboxMtg(**options)
    async with mtg:
        yield mtg
