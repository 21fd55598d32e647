"""MTG hosts: the MTG admin panels the shop creates customers' proxies on.

Adding or re-pointing one first proves the login works and the panel has a node online. Deleting
one first removes its proxies from the panel; if that fails it stays (unless `anyway`). A refusal
is a `shop.access.hosts.HostError` naming the field at fault; with an `actor`, every change is
written to the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field, ValidationError, field_validator
from sqlalchemy import func, select

from shop.access.host_registry import HostError, HostRegistry, host_name, invalid, panel_url
from shop.http_client import Timeouts
from shop.models import MtgHost, ProxyClient
from shop.operators import audit
from shop.proxy.client import MtgClient, MtgCredentials, Node
from shop.proxy.errors import MtgAuthError, MtgError, MtgUnavailable
from shop.proxy.pool import MtgPool, credentials_for
from shop.proxy.provisioning import ProxyProvisioner

CONNECTION_FIELDS = ("panel_url", "username", "password")


class MtgHostInput(BaseModel):
    name: str = Field(min_length=1, max_length=64)
    panel_url: str
    username: str = Field(min_length=1, max_length=128)
    password: str = Field(min_length=1)
    sort_order: int = 0

    @field_validator("panel_url")
    @classmethod
    def _url(cls, value: str) -> str:
        return panel_url(value, "http(s)://host:port/")

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return host_name(value)


def parse_mtg_input(values: dict[str, object]) -> MtgHostInput:
    try:
        return MtgHostInput.model_validate(values)
    except ValidationError as error:
        raise invalid(error) from None


async def check_mtg(credentials: MtgCredentials, timeout_seconds: float = 15.0) -> list[Node]:
    """Log in and read the nodes; a HostError says what is wrong in one line."""
    async with MtgClient(credentials, Timeouts.of(timeout_seconds)) as client:
        try:
            nodes = await client.nodes()
        except MtgAuthError as error:
            raise HostError(f"cannot log in to the MTG panel: {error}", "username", "login") from None
        except MtgUnavailable as error:
            message = f"MTG panel unreachable at {credentials.base_url}: {error}"
            raise HostError(message, "panel_url", "unreachable") from None
        except MtgError as error:
            raise HostError(f"MTG panel at {credentials.base_url}: {error}", "panel_url", "panel") from None
    if not any(node.online for node in nodes):
        raise HostError("the MTG panel has no node online", "panel_url", "no_nodes")
    return nodes


@dataclass(frozen=True)
class MtgHostService(HostRegistry[MtgHost]):
    model = MtgHost
    noun = "MTG host"
    kind = "mtg_host"

    async def hosts(self) -> list[MtgHost]:
        return await self.all()

    async def proxy_counts(self) -> dict[int, int]:
        async with self.sessions() as session:
            rows = await session.execute(
                select(ProxyClient.host_id, func.count()).group_by(ProxyClient.host_id)
            )
        return {int(host_id): int(count) for host_id, count in rows}

    def _credentials(self, data: MtgHostInput) -> MtgCredentials:
        return MtgCredentials(data.panel_url, data.username, data.password)

    def _public(self, data: MtgHostInput) -> dict[str, Any]:
        return {**data.model_dump(exclude={"password"}), "password": bool(data.password)}

    async def add(self, data: MtgHostInput) -> MtgHost:
        await self.refuse_taken(data.name)
        await check_mtg(self._credentials(data), self.timeout)
        host = MtgHost(name=data.name)
        self._apply(host, data)
        await self.insert(host)
        await self._audit("add", data.name, None, self._public(data))
        return host

    def _apply(self, host: MtgHost, data: MtgHostInput) -> None:
        host.name, host.panel_url, host.username = data.name, data.panel_url, data.username
        host.sort_order = data.sort_order
        host.password_encrypted = self.sealer.seal(data.password)

    def _current(self, host: MtgHost) -> dict[str, object]:
        return {
            "name": host.name,
            "panel_url": host.panel_url,
            "username": host.username,
            "password": credentials_for(host, self.sealer).password,
            "sort_order": host.sort_order,
        }

    async def edit(self, name: str, changes: dict[str, object]) -> MtgHost:
        """Changes the given fields; an empty password keeps the stored one."""
        host = await self.get(name)
        if not changes.get("password"):
            changes = {key: value for key, value in changes.items() if key != "password"}
        data = parse_mtg_input({**self._current(host), **changes})
        moved = data.panel_url != host.panel_url
        count = (await self.proxy_counts()).get(host.id, 0)
        if moved and count:
            raise HostError(
                f"MTG host {name!r} holds {count} proxies: delete it and add it again to move it",
                "panel_url",
                "has_clients",
            )
        if any(key in changes for key in CONNECTION_FIELDS):
            await check_mtg(self._credentials(data), self.timeout)
        before = self._public(parse_mtg_input(self._current(host)))
        stored = await self.store(host.id, lambda row: self._apply(row, data), data.name)
        old, new = audit.changed(before, self._public(data))
        if new:
            await self._audit("edit", name, old, new)
        return stored

    async def check(self, name: str) -> list[Node]:
        host = await self.get(name)
        return await check_mtg(credentials_for(host, self.sealer), self.timeout)

    async def delete(self, name: str, prefix: str, anyway: bool = False) -> dict[str, int]:
        """Remove the host's proxies from its panel, then the host. Panel trouble keeps the host,
        unless `anyway`: then the proxies not yet removed are left on the panel ("left")."""
        host = await self.get(name)
        async with self.sessions() as session:
            rows = list(await session.scalars(select(ProxyClient).where(ProxyClient.host_id == host.id)))
        outcome = {"deleted": 0, "absent": 0, "left": 0}
        pool = MtgPool(lambda: self.sealer, self.timeout)
        provisioner = ProxyProvisioner(self.sessions, pool, prefix)
        try:
            for row in rows:
                outcome[await provisioner.remove(host, row)] += 1
        except MtgError as error:
            if not anyway:
                raise HostError(
                    f"MTG host {name!r} kept: could not remove its proxies from the panel "
                    f"({type(error).__name__}: {error}); `--anyway` deletes it, leaving them there",
                    code="cleanup",
                ) from None
            outcome["left"] = len(rows) - outcome["deleted"] - outcome["absent"]
        finally:
            await pool.aclose()
        await self.remove_row(host)
        await self._audit("delete", name, {"panel_url": host.panel_url}, dict(outcome))
        return outcome
