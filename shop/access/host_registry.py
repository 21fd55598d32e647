"""What every kind of host the shop keeps shares (3x-ui panels in `shop.access.hosts`, MTG panels
in `shop.proxy.hosts`): a refusal naming the field at fault, URL and name rules, lookup by name,
the operators' order, the enabled switch, a duplicate name refused, and the audit trail."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar
from urllib.parse import urlsplit

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from shop.crypto import Sealer
from shop.db import SessionFactory
from shop.models import Host, MtgHost
from shop.operators import audit
from shop.operators.audit import Actor


class HostError(Exception):
    """A one-line reason the host operation was refused; nothing was changed. `field` names the
    input at fault ("" when none) and `code` the reason, for a form to show beside the field."""

    def __init__(self, message: str, field: str = "", code: str = "") -> None:
        super().__init__(message)
        self.field = field
        self.code = code


def panel_url(value: str, shape: str) -> str:
    """`scheme://host:port/base-path/`, normalised; `shape` is what the refusal asks for."""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"must be {shape}")
    path = "/" + parts.path.strip("/") + "/" if parts.path.strip("/") else "/"
    return f"{parts.scheme}://{parts.netloc}{path}"


def host_name(value: str) -> str:
    if value != value.strip() or not value.isprintable():
        raise ValueError("must be printable, without surrounding spaces")
    return value


def invalid(error: ValidationError) -> HostError:
    first = error.errors()[0]
    field = ".".join(str(p) for p in first["loc"]) or "input"
    code = "required" if first["type"] in ("missing", "string_too_short") else "invalid"
    return HostError(f"invalid {field}: {first['msg']}", field, code)


H = TypeVar("H", Host, MtgHost)


@dataclass(frozen=True)
class HostRegistry(Generic[H]):
    sessions: SessionFactory
    sealer: Sealer
    timeout: float = 15.0
    actor: Actor | None = None  # who acts, for the audit log

    model: ClassVar[type[Any]]
    noun: ClassVar[str]  # in messages: "host", "MTG host"
    kind: ClassVar[str]  # in the audit log: "host" -> host.add, host:<name>

    async def _audit(
        self, action: str, name: str, before: dict[str, Any] | None, after: dict[str, Any] | None
    ) -> None:
        if self.actor is not None:
            await audit.write(
                self.sessions, self.actor, f"{self.kind}.{action}", f"{self.kind}:{name}", before, after
            )

    def _duplicate(self, name: str) -> HostError:
        return HostError(f"a {self.noun} named {name!r} already exists", "name", "duplicate")

    async def get(self, name: str) -> H:
        async with self.sessions() as session:
            host: H | None = await session.scalar(select(self.model).where(self.model.name == name))
        if host is None:
            raise HostError(f"no {self.noun} named {name!r}", "name", "unknown")
        return host

    async def all(self) -> list[H]:
        """In the operators' order."""
        async with self.sessions() as session:
            return list(
                await session.scalars(select(self.model).order_by(self.model.sort_order, self.model.id))
            )

    async def refuse_taken(self, name: str) -> None:
        async with self.sessions() as session:
            if await session.scalar(select(self.model.id).where(self.model.name == name)) is not None:
                raise self._duplicate(name)

    async def insert(self, host: H) -> H:
        async with self.sessions() as session:
            session.add(host)
            try:
                await session.commit()
            except IntegrityError:
                raise self._duplicate(host.name) from None
        return host

    async def store(self, host_id: int, apply: Any, name: str) -> H:
        """Loads the row, `apply(row)`, commits; a name taken meanwhile is a duplicate."""
        async with self.sessions() as session:
            stored: H | None = await session.get(self.model, host_id)
            assert stored is not None
            apply(stored)
            try:
                await session.commit()
            except IntegrityError:
                raise self._duplicate(name) from None
        return stored

    async def set_enabled(self, name: str, enabled: bool) -> H:
        host = await self.get(name)
        async with self.sessions() as session:
            stored: H | None = await session.get(self.model, host.id)
            assert stored is not None
            changed = stored.enabled != enabled
            stored.enabled = enabled
            await session.commit()
        if changed:
            await self._audit(
                "enable" if enabled else "disable", name, {"enabled": not enabled}, {"enabled": enabled}
            )
        return stored

    async def remove_row(self, host: H) -> None:
        async with self.sessions() as session:
            stored = await session.get(self.model, host.id)
            if stored is not None:
                await session.delete(stored)
                await session.commit()
