"""Diagnose one customer, live: for every enabled host, what its panel holds for the customer's
client against what the shop wants there now, with each difference named. Reads only; the fix is
"re-provision now" (or the reconciliation Schedule)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import select

from shop.access.provisioning import Provisioner, desired_state
from shop.crypto import Sealer
from shop.db import SessionFactory
from shop.models import Host, Subscription
from shop.panel.errors import PanelError
from shop.panel.links import UnsupportedInbound
from shop.panel.models import ClientSpec, RemoteClient
from shop.panel.pool import PanelPool
from shop.settings import Settings


@dataclass(frozen=True)
class Difference:
    field: str  # presence, enable, expiry, uuid, sub_id, flow
    panel: str
    shop: str


@dataclass
class HostDiagnosis:
    host_id: int
    host: str
    email: str = ""
    error: str = ""  # the panel could not be read
    differences: list[Difference] = field(default_factory=list)

    @property
    def in_line(self) -> bool:
        return not self.error and not self.differences


def _moment(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if ms else "never"


def compare(remote: RemoteClient | None, spec: ClientSpec) -> list[Difference]:
    if remote is None:
        return [Difference("presence", "absent", "present")]
    found = []
    if remote.enable != spec.enable:
        found.append(Difference("enable", "on" if remote.enable else "off", "on" if spec.enable else "off"))
    if remote.expiry_ms != spec.expiry_ms:
        found.append(Difference("expiry", _moment(remote.expiry_ms), _moment(spec.expiry_ms)))
    if remote.uuid != spec.uuid:
        found.append(Difference("uuid", remote.uuid, spec.uuid))
    if remote.sub_id != spec.sub_id:
        found.append(Difference("sub_id", remote.sub_id, spec.sub_id))
    if remote.flow is not None and remote.flow != spec.flow:
        found.append(Difference("flow", remote.flow or "-", spec.flow or "-"))
    return found


async def diagnose(sessions: SessionFactory, settings: Settings, user_id: int) -> list[HostDiagnosis]:
    """Empty when the customer never had access (no panel should hold them)."""
    async with sessions() as session:
        subscription_id = await session.scalar(select(Subscription.id).where(Subscription.user_id == user_id))
        hosts = list(
            await session.scalars(
                select(Host).where(Host.enabled.is_(True)).order_by(Host.sort_order, Host.id)
            )
        )
    desired = await desired_state(sessions, subscription_id) if subscription_id is not None else None
    if desired is None or desired.expires_at is None:
        return []
    pool = PanelPool(lambda: Sealer.from_settings(settings), settings.panel_timeout_seconds)
    provisioner = Provisioner(sessions, pool, settings.panel_email_prefix)
    found = []
    try:
        for host in hosts:
            diagnosis = HostDiagnosis(host.id, host.name)
            try:
                inbound = await pool.inbound(host, fresh=True)
                spec = provisioner.spec(desired, inbound)
                diagnosis.email = spec.email
                remote = await pool.client(host).find_client(inbound.id, spec.email)
                diagnosis.differences = compare(remote, spec)
            except (PanelError, UnsupportedInbound) as error:
                diagnosis.error = f"{type(error).__name__}: {error}"[:300]
            found.append(diagnosis)
    finally:
        await pool.aclose()
    return found
