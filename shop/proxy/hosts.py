"""MTG hosts: the MTG admin panels the shop creates customers' proxies on.

Adding or re-pointing one first proves the login works and the panel has a node online. Deleting
one first removes its proxies from the panel; if that fails it stays (unless `anyway`). A refusal
is a `shop.access.hosts.HostError` naming the field at fault; with an `actor`, every change is
written to the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, ValidationError, field_validator
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from shop.access.hosts import HostError
from shop.crypto import Sealer
from shop.db import SessionFactory
from shop.models import MtgHost, ProxyClient
from shop.operators import audit
from shop.operators.audit import Actor
from shop.proxy.client import MtgClient, MtgCredentials, Node, mtg_timeout
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
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be http(s)://host:port/")
        path = "/" + parts.path.strip("/") + "/" if parts.path.strip("/") else "/"
        return f"{parts.scheme}://{parts.netloc}{path}"

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if value != value.strip() or not value.isprintable():
            raise ValueError("must be printable, without surrounding spaces")
        return value


def parse_mtg_input(values: dict[str, object]) -> MtgHostInput:
    try:
        return MtgHostInput.model_validate(values)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "input"
        code = "required" if first["type"] in ("missing", "string_too_short") else "invalid"
        raise HostError(f"invalid {field}: {first['msg']}", field, code) from None


async def check_mtg(credentials: MtgCredentials, timeout_seconds: float = 15.0) -> list[Node]:
    """Log in and read the nodes; a HostError says what is wrong in one line."""
    async with MtgClient(credentials, mtg_timeout(timeout_seconds)) as client:
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
class MtgHostService:
    sessions: SessionFactory
    sealer: Sealer
    timeout: float = 15.0
    actor: Actor | None = None

    async def _audit(
        self, action: str, name: str, before: dict[str, Any] | None, after: dict[str, Any] | None
    ) -> None:
        if self.actor is not None:
            await audit.write(self.sessions, self.actor, action, f"mtg_host:{name}", before, after)

    async def get(self, name: str) -> MtgHost:
        async with self.sessions() as session:
            host = await session.scalar(select(MtgHost).where(MtgHost.name == name))
        if host is None:
            raise HostError(f"no MTG host named {name!r}", "name", "unknown")
        return host

    async def hosts(self) -> list[MtgHost]:
        async with self.sessions() as session:
            return list(await session.scalars(select(MtgHost).order_by(MtgHost.sort_order, MtgHost.id)))

    async def proxy_counts(self) -> dict[int, int]:
        async with self.sessions() as session:
            rows = await session.execute(
                select(ProxyClient.host_id, func.count()).group_by(ProxyClient.host_id)
            )
        return {int(host_id): int(count) for host_id, count in rows}

    async def any_enabled(self) -> bool:
        async with self.sessions() as session:
            return await session.scalar(select(MtgHost.id).where(MtgHost.enabled).limit(1)) is not None

    def _credentials(self, data: MtgHostInput) -> MtgCredentials:
        return MtgCredentials(data.panel_url, data.username, data.password)

    def _public(self, data: MtgHostInput) -> dict[str, Any]:
        return {**data.model_dump(exclude={"password"}), "password": bool(data.password)}

    async def add(self, data: MtgHostInput) -> MtgHost:
        async with self.sessions() as session:
            if await session.scalar(select(MtgHost.id).where(MtgHost.name == data.name)) is not None:
                raise HostError(f"an MTG host named {data.name!r} already exists", "name", "duplicate")
        await check_mtg(self._credentials(data), self.timeout)
        host = MtgHost(name=data.name)
        self._apply(host, data)
        async with self.sessions() as session:
            session.add(host)
            try:
                await session.commit()
            except IntegrityError:
                raise HostError(
                    f"an MTG host named {data.name!r} already exists", "name", "duplicate"
                ) from None
        await self._audit("mtg_host.add", data.name, None, self._public(data))
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
        async with self.sessions() as session:
            stored = await session.get(MtgHost, host.id)
            assert stored is not None
            self._apply(stored, data)
            try:
                await session.commit()
            except IntegrityError:
                raise HostError(
                    f"an MTG host named {data.name!r} already exists", "name", "duplicate"
                ) from None
        old, new = audit.changed(before, self._public(data))
        if new:
            await self._audit("mtg_host.edit", name, old, new)
        return stored

    async def set_enabled(self, name: str, enabled: bool) -> MtgHost:
        host = await self.get(name)
        async with self.sessions() as session:
            stored = await session.get(MtgHost, host.id)
            assert stored is not None
            changed = stored.enabled != enabled
            stored.enabled = enabled
            await session.commit()
        if changed:
            action = "mtg_host.enable" if enabled else "mtg_host.disable"
            await self._audit(action, name, {"enabled": not enabled}, {"enabled": enabled})
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
        async with self.sessions() as session:
            stored = await session.get(MtgHost, host.id)
            if stored is not None:
                await session.delete(stored)
                await session.commit()
        await self._audit("mtg_host.delete", name, {"panel_url": host.panel_url}, dict(outcome))
        return outcome
