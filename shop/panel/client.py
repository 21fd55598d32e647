"""PanelClient: the operations the shop needs on one 3x-ui panel, whatever its version."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from shop.http_client import Timeouts
from shop.panel.dialects import Dialect, dialect_for
from shop.panel.errors import PanelDuplicate
from shop.panel.models import ClientSpec, Inbound, RemoteClient, Usage
from shop.panel.session import DEFAULT_TIMEOUT, PanelCredentials, PanelSession
from shop.panel.versions import PanelVersion


class UpsertAction(enum.StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass(frozen=True)
class UpsertResult:
    action: UpsertAction
    drift: tuple[str, ...] = ()


class PanelClient:
    def __init__(
        self,
        credentials: PanelCredentials,
        timeout: Timeouts = DEFAULT_TIMEOUT,
    ) -> None:
        self.session = PanelSession(credentials, timeout)

    @property
    def calls(self) -> int:
        return self.session.calls

    async def aclose(self) -> None:
        await self.session.aclose()

    async def __aenter__(self) -> PanelClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()

    async def _dialect(self) -> Dialect:
        await self.session.ensure_ready()
        return dialect_for(self.session)

    async def version(self) -> PanelVersion:
        return await self.session.ensure_ready()

    async def get_inbound(self, inbound_id: int) -> Inbound:
        return await (await self._dialect()).get_inbound(inbound_id)

    async def list_clients(self, inbound_id: int) -> list[RemoteClient]:
        inbound = await self.get_inbound(inbound_id)
        return [RemoteClient.from_settings_entry(entry, inbound.id) for entry in inbound.clients]

    async def usage(self, inbound_id: int) -> dict[str, Usage]:
        """Traffic counters of every client of the inbound, by email (one call)."""
        return await (await self._dialect()).usage(inbound_id)

    async def find_client(self, inbound_id: int, email: str) -> RemoteClient | None:
        return await (await self._dialect()).find_client(inbound_id, email)

    async def upsert_client(
        self, inbound_id: int, spec: ClientSpec, known: RemoteClient | None = None, fresh: bool = False
    ) -> UpsertResult:
        """Make the panel hold `spec`: add it if absent, rewrite it if it differs, else nothing.

        `known` is a fresh reading of the client (e.g. from a whole-inbound listing), which saves
        the lookup. `fresh`: the shop never wrote this client here, so on a panel that refuses a
        duplicate add it is added without a lookup first (a new customer's first payment costs one
        call per host, not two). A `Duplicate email` on add means it is there after all (an
        earlier attempt did land): read it back.
        """
        dialect = await self._dialect()
        unread = fresh and dialect.refuses_duplicate_add
        remote = known if known is not None or unread else await dialect.find_client(inbound_id, spec.email)
        action = UpsertAction.UPDATED
        if remote is None:
            try:
                await dialect.add_client(inbound_id, spec)
                return UpsertResult(UpsertAction.CREATED)
            except PanelDuplicate:
                remote = await dialect.find_client(inbound_id, spec.email)
                if remote is None:
                    raise
                action = UpsertAction.CREATED
        self._check_ours(inbound_id, remote, spec)
        drift = tuple(remote.drift(spec))
        if not drift and inbound_id in remote.inbound_ids:
            return UpsertResult(action if action is UpsertAction.CREATED else UpsertAction.UNCHANGED)
        await dialect.update_client(inbound_id, remote, spec)
        return UpsertResult(action, drift)

    def _check_ours(self, inbound_id: int, remote: RemoteClient, spec: ClientSpec) -> None:
        elsewhere = remote.inbound_ids and inbound_id not in remote.inbound_ids
        if elsewhere and not (self.session.version or PanelVersion.V2).clients_api:
            # Classic panels keep emails unique across inbounds: this one belongs to someone else.
            raise PanelDuplicate(f"email {spec.email} is used by inbound {remote.inbound_ids[0]}")

    async def delete_client(self, inbound_id: int, email: str) -> bool:
        """Remove the client; False when it was not there. May raise PanelLastClient (v2/v3.0)."""
        dialect = await self._dialect()
        remote = await dialect.find_client(inbound_id, email)
        if remote is None or (remote.inbound_ids and inbound_id not in remote.inbound_ids):
            return False
        await dialect.delete_client(inbound_id, remote)
        return True
