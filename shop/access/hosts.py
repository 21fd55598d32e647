"""Hosts: the 3x-ui panels (one VLESS inbound each) the shop provisions subscriptions onto.

Adding or re-pointing a host first proves that the panel login works and that the inbound exists
and is VLESS. Deleting a host first removes its clients from the panel; if that fails it stays.
A refusal names the field at fault and a reason code (for a form); with an `actor`, every change
is written to the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field, ValidationError, field_validator
from sqlalchemy import func, select

from shop.access.host_registry import HostError, HostRegistry, host_name, invalid, panel_url
from shop.access.provisioning import Provisioner
from shop.http_client import Timeouts
from shop.models import Host, PanelClient
from shop.operators import audit
from shop.panel.client import PanelClient as Panel
from shop.panel.errors import PanelAuthError, PanelError, PanelNotFound, PanelUnavailable
from shop.panel.links import UnsupportedInbound, check_supported
from shop.panel.models import Inbound
from shop.panel.pool import PanelPool, credentials_for
from shop.panel.session import PanelCredentials
from shop.panel.totp import valid_secret
from shop.panel.versions import PanelVersion

CONNECTION_FIELDS = (
    "panel_url",
    "username",
    "password",
    "api_token",
    "totp_secret",
    "verify_tls",
    "inbound_id",
)
SECRET_FIELDS = {
    "password": "password_encrypted",
    "api_token": "api_token_encrypted",
    "totp_secret": "totp_secret_encrypted",
}


def _public(values: dict[str, Any]) -> dict[str, Any]:
    """What the audit log may show: secrets only as "set" or not."""
    return {key: (bool(value) if key in SECRET_FIELDS else value) for key, value in values.items()}


class HostInput(BaseModel):
    name: str = Field(min_length=1, max_length=64)
    panel_url: str
    inbound_id: int = Field(ge=1)
    username: str = ""
    password: str = ""
    api_token: str = ""
    totp_secret: str = ""
    verify_tls: bool = True
    public_address: str | None = None
    country: str = Field("", max_length=64)
    flag: str = Field("", max_length=16)
    sort_order: int = 0

    @field_validator("panel_url")
    @classmethod
    def _url(cls, value: str) -> str:
        return panel_url(value, "http(s)://host:port/base-path/")

    @field_validator("totp_secret")
    @classmethod
    def _totp(cls, value: str) -> str:
        if value and not valid_secret(value):
            raise ValueError("must be a base32 TOTP secret")
        return value.replace(" ", "").upper()

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return host_name(value)


def parse_input(values: dict[str, object]) -> HostInput:
    try:
        return HostInput.model_validate(values)
    except ValidationError as error:
        raise invalid(error) from None


async def check_panel(
    credentials: PanelCredentials, inbound_id: int, timeout_seconds: float = 15.0
) -> Inbound:
    """Log in and read the inbound; a HostError says what is wrong in one line."""
    _, inbound = await probe_panel(credentials, inbound_id, timeout_seconds)
    return inbound


async def probe_panel(
    credentials: PanelCredentials, inbound_id: int, timeout_seconds: float = 15.0
) -> tuple[PanelVersion, Inbound]:
    """`check_panel`, also telling the 3x-ui mode the panel speaks (one login)."""
    async with Panel(credentials, Timeouts.of(timeout_seconds)) as panel:
        try:
            version = await panel.version()
        except PanelAuthError as error:
            raise HostError(f"cannot log in to the panel: {error}", "username", "login") from None
        except PanelUnavailable as error:
            message = f"panel unreachable at {credentials.base_url}: {error}"
            raise HostError(message, "panel_url", "unreachable") from None
        except PanelError as error:
            raise HostError(f"panel at {credentials.base_url}: {error}", "panel_url", "panel") from None
        try:
            inbound = await panel.get_inbound(inbound_id)
            check_supported(inbound)
        except PanelNotFound:
            message = f"inbound {inbound_id} does not exist on the panel"
            raise HostError(message, "inbound_id", "no_inbound") from None
        except UnsupportedInbound as error:
            raise HostError(str(error), "inbound_id", "unsupported") from None
        except PanelError as error:
            message = f"cannot read inbound {inbound_id}: {error}"
            raise HostError(message, "inbound_id", "panel") from None
        return version, inbound


@dataclass(frozen=True)
class HostService(HostRegistry[Host]):
    model = Host
    noun = "host"
    kind = "host"

    async def list(self) -> list[Host]:
        return await self.all()

    async def client_counts(self) -> dict[int, int]:
        async with self.sessions() as session:
            rows = await session.execute(
                select(PanelClient.host_id, func.count()).group_by(PanelClient.host_id)
            )
        return {int(host_id): int(count) for host_id, count in rows}

    def _credentials(self, data: HostInput) -> PanelCredentials:
        return PanelCredentials(
            data.panel_url, data.username, data.password, data.api_token, data.totp_secret, data.verify_tls
        )

    async def add(self, data: HostInput) -> Host:
        if not data.api_token and not (data.username and data.password):
            raise HostError("give --username and --password, or --api-token", "username", "credentials")
        await self.refuse_taken(data.name)
        await check_panel(self._credentials(data), data.inbound_id, self.timeout)
        host = Host(name=data.name)
        self._apply(host, data)
        await self.insert(host)
        await self._audit("add", data.name, None, _public(data.model_dump()))
        return host

    def _apply(self, host: Host, data: HostInput) -> None:
        plain = data.model_dump(exclude=set(SECRET_FIELDS))
        for key, value in plain.items():
            setattr(host, key, value)
        for key, column in SECRET_FIELDS.items():
            setattr(host, column, self.sealer.seal(getattr(data, key)))

    def _current_input(self, host: Host) -> dict[str, object]:
        current = {key: getattr(host, key) for key in HostInput.model_fields if key not in SECRET_FIELDS}
        creds = credentials_for(host, self.sealer)
        current.update(password=creds.password, api_token=creds.api_token, totp_secret=creds.totp_secret)
        return current

    async def edit(self, name: str, changes: dict[str, object]) -> Host:
        host = await self.get(name)
        data = parse_input({**self._current_input(host), **changes})
        moved = data.panel_url != host.panel_url or data.inbound_id != host.inbound_id
        count = (await self.client_counts()).get(host.id, 0)
        if moved and count:
            raise HostError(
                f"host {name!r} has {count} clients on inbound {host.inbound_id}: "
                "delete it and add it again to move it to another panel or inbound",
                "inbound_id" if data.panel_url == host.panel_url else "panel_url",
                "has_clients",
            )
        if any(key in changes for key in CONNECTION_FIELDS):
            await check_panel(self._credentials(data), data.inbound_id, self.timeout)
        before = _public(self._current_input(host))
        stored = await self.store(host.id, lambda row: self._apply(row, data), data.name)
        old, new = audit.changed(before, _public(data.model_dump()))
        if new:
            await self._audit("edit", name, old, new)
        return stored

    async def by_id(self, host_id: int) -> Host:
        async with self.sessions() as session:
            host = await session.get(Host, host_id)
        if host is None:
            raise HostError(f"no host with id {host_id}", "name", "unknown")
        return host

    async def delete_with_cleanup(self, name: str, email_prefix: str, anyway: bool = False) -> dict[str, int]:
        """`delete` with a panel pool of its own, closed afterwards (the CLI and the console)."""
        pool = PanelPool(lambda: self.sealer, self.timeout)
        try:
            return await self.delete(name, Provisioner(self.sessions, pool, email_prefix), anyway)
        finally:
            await pool.aclose()

    async def delete(self, name: str, provisioner: Provisioner, anyway: bool = False) -> dict[str, int]:
        """Remove the host's clients from its panel, then the host. Panel trouble keeps the host,
        unless `anyway`: then the host goes and the clients not yet removed stay on the panel
        ("left"), with whatever expiry was last written there."""
        host = await self.get(name)
        async with self.sessions() as session:
            rows = list(await session.scalars(select(PanelClient).where(PanelClient.host_id == host.id)))
        outcome = {"deleted": 0, "absent": 0, "disabled": 0, "left": 0}
        try:
            for row in rows:
                outcome[await provisioner.remove(host, row.subscription_id, row.email)] += 1
        except PanelError as error:
            if not anyway:
                raise HostError(
                    f"host {name!r} kept: could not remove its clients from the panel "
                    f"({type(error).__name__}: {error}); `--anyway` deletes it, leaving its clients there",
                    code="cleanup",
                ) from None
            outcome["left"] = len(rows) - outcome["deleted"] - outcome["absent"] - outcome["disabled"]
        await self.remove_row(host)
        await self._audit("delete", name, {"panel_url": host.panel_url}, dict(outcome))
        return outcome
