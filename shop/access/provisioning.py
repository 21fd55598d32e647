"""Provisioning: make one host's panel hold a subscription's client exactly as the ledger says.

The desired state comes from the database only: expiry = `subscriptions.expires_at` (absolute),
enabled = not expired and the user not banned. After every write the ledger is read again and
the write repeated if it moved meanwhile, so racing runs leave the latest expiry on the panel.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from shop.db import SessionFactory, engine_of
from shop.models import Host, PanelClient, Subscription, User, utcnow
from shop.panel.client import UpsertAction
from shop.panel.errors import PanelLastClient
from shop.panel.identity import client_identity
from shop.panel.links import panel_hostname, remark, vless_link
from shop.panel.models import ClientSpec, Inbound, RemoteClient, Usage
from shop.panel.pool import PanelPool

MAX_ROUNDS = 3


class SyncStatus(enum.StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    ABSENT = "absent"  # not active and not on the panel: nothing to disable
    NO_ACCESS = "no_access"  # never granted, or the subscription is gone
    SKIPPED = "skipped"  # the host is gone or disabled


class ClientSync(BaseModel):
    subscription_id: int
    host_id: int
    status: SyncStatus
    drift: list[str] = []
    expires_at: datetime | None = None
    enabled: bool = False
    # No link here: it is the customer's VPN credential, kept in panel_clients and never in a
    # workflow history (results of runs before this change may still carry one; it is ignored).
    rewrites: int = 0  # extra writes because the ledger moved during the sync


@dataclass(frozen=True)
class Desired:
    subscription_id: int
    telegram_id: int
    expires_at: datetime | None
    active: bool

    def same(self, other: Desired | None) -> bool:
        return other is not None and (other.expires_at, other.active) == (self.expires_at, self.active)


def _desired(row: Any, now: datetime) -> Desired:
    expires, banned = row.expires_at, row.banned
    return Desired(row.id, row.user_id, expires, bool(expires and expires > now and not banned))


def _desired_query() -> Any:
    return select(Subscription.id, Subscription.user_id, Subscription.expires_at, User.banned).join(
        User, User.id == Subscription.user_id
    )


async def desired_state(
    sessions: SessionFactory, subscription_id: int, now: datetime | None = None
) -> Desired | None:
    async with sessions() as session:
        row = (await session.execute(_desired_query().where(Subscription.id == subscription_id))).first()
    return _desired(row, now or utcnow()) if row else None


async def all_desired(sessions: SessionFactory, now: datetime | None = None) -> dict[int, Desired]:
    """Every subscription that has ever been granted access."""
    async with sessions() as session:
        rows = await session.execute(_desired_query().where(Subscription.expires_at.is_not(None)))
    moment = now or utcnow()
    return {row.id: _desired(row, moment) for row in rows}


async def enabled_host_ids(sessions: SessionFactory, only: list[int] | None = None) -> list[int]:
    """The hosts a client goes to: the enabled ones (of `only`, when given), in the operators' order."""
    query = select(Host.id).where(Host.enabled.is_(True)).order_by(Host.sort_order, Host.id)
    if only is not None:
        query = query.where(Host.id.in_(only))
    async with engine_of(sessions).connect() as connection:
        return list(await connection.scalars(query))


def expiry_ms(moment: datetime | None) -> int:
    return int(moment.timestamp() * 1000) if moment else 0


def _upsert_row(dialect_name: str, values: dict[str, Any]) -> Any:
    """The panel_clients row for (subscription, host), inserted or updated."""
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    statement = dialect.insert(PanelClient).values(**values)
    changes = {k: v for k, v in values.items() if k not in ("subscription_id", "host_id")}
    return statement.on_conflict_do_update(index_elements=["subscription_id", "host_id"], set_=changes)


# What a sync writes to panel_clients, read back to skip a write that would change nothing.
_WRITTEN = (
    PanelClient.subscription_id,
    PanelClient.host_id,
    PanelClient.client_uuid,
    PanelClient.email,
    PanelClient.sub_id,
    PanelClient.link,
    PanelClient.expiry_written,
    PanelClient.enabled_written,
    PanelClient.needs_reconcile,
)


class Provisioner:
    def __init__(self, sessions: SessionFactory, pool: PanelPool, prefix: str) -> None:
        self.sessions = sessions
        self.pool = pool
        self.prefix = prefix

    def spec(self, desired: Desired, inbound: Inbound) -> ClientSpec:
        secret = self.pool.sealer.derive("panel-identity")
        ident = client_identity(secret, desired.subscription_id, inbound.id, self.prefix)
        return ClientSpec(
            uuid=ident.uuid,
            email=ident.email,
            sub_id=ident.sub_id,
            expiry_ms=expiry_ms(desired.expires_at),
            enable=desired.active,
            flow=inbound.flow(),
            tg_id=desired.telegram_id,
        )

    def link(self, host: Host, inbound: Inbound, spec: ClientSpec) -> str:
        address = host.public_address or panel_hostname(host.panel_url)
        return vless_link(inbound, spec.uuid, address, remark(host.flag, host.name), spec.sub_id)

    async def host(self, host_id: int) -> Host | None:
        async with self.sessions() as session:
            return await session.get(Host, host_id)

    async def _read(self, subscription_id: int, host_id: int) -> tuple[Desired | None, dict[str, Any] | None]:
        """The desired state and what the last sync wrote to this host, by one statement on a
        connection (every payment's first host runs this)."""
        query = (
            _desired_query()
            .add_columns(*_WRITTEN)
            .outerjoin(
                PanelClient,
                (PanelClient.subscription_id == Subscription.id) & (PanelClient.host_id == host_id),
            )
            .where(Subscription.id == subscription_id)
        )
        async with engine_of(self.sessions).connect() as connection:
            row = (await connection.execute(query)).first()
        if row is None:
            return None, None
        written = dict(zip((column.key for column in _WRITTEN), row[-len(_WRITTEN) :], strict=True))
        return _desired(row, utcnow()), written if written["host_id"] is not None else None

    async def sync(
        self,
        host: Host,
        subscription_id: int,
        known: RemoteClient | None = None,
        inbound: Inbound | None = None,
    ) -> ClientSync:
        """Upsert the subscription's client on `host`. `known`: a fresh panel reading of it, if any."""
        async with self.pool.serialised(subscription_id, host.id):
            desired, written = await self._read(subscription_id, host.id)
            if desired is None or desired.expires_at is None:
                return ClientSync(
                    subscription_id=subscription_id, host_id=host.id, status=SyncStatus.NO_ACCESS
                )
            inbound = inbound or await self.pool.inbound(host)
            panel = self.pool.client(host)
            spec = self.spec(desired, inbound)
            if not desired.active and written is None:
                known = known or await panel.find_client(inbound.id, spec.email)
                if known is None:
                    return ClientSync(
                        subscription_id=subscription_id,
                        host_id=host.id,
                        status=SyncStatus.ABSENT,
                        expires_at=desired.expires_at,
                    )
            first: SyncStatus | None = None
            drift: list[str] = []
            rewrites = -1
            fresh = written is None and known is None  # never written here: most likely absent
            for _ in range(MAX_ROUNDS):
                result = await panel.upsert_client(inbound.id, spec, known, fresh)
                known, fresh = None, False
                first = first or SyncStatus(result.action.value)
                drift = drift or list(result.drift)
                rewrites += 1
                if result.action is UpsertAction.UNCHANGED:
                    break
                again = await desired_state(self.sessions, subscription_id)
                if again is None or desired.same(again):
                    break
                desired, spec = again, self.spec(again, inbound)
            link = self.link(host, inbound, spec)
            await self._remember(written, host.id, spec, desired, link)
            return ClientSync(
                subscription_id=subscription_id,
                host_id=host.id,
                status=first or SyncStatus.UNCHANGED,
                drift=drift,
                expires_at=desired.expires_at,
                enabled=desired.active,
                rewrites=rewrites,
            )

    async def _remember(
        self, written: dict[str, Any] | None, host_id: int, spec: ClientSpec, desired: Desired, link: str
    ) -> None:
        values = {
            "subscription_id": desired.subscription_id,
            "host_id": host_id,
            "client_uuid": spec.uuid,
            "email": spec.email,
            "sub_id": spec.sub_id,
            "link": link,
            "expiry_written": desired.expires_at,
            "enabled_written": desired.active,
            "needs_reconcile": False,
        }
        if written is not None and all(written[k] == v for k, v in values.items()):
            return  # nothing new: a no-op sync costs no database write
        async with engine_of(self.sessions).begin() as connection:
            row = {**values, "last_sync_at": utcnow()}
            await connection.execute(_upsert_row(connection.dialect.name, row))

    async def remove(self, host: Host, subscription_id: int, email: str) -> str:
        """Delete the client from the host's panel: "deleted", "absent" or "disabled"."""
        panel = self.pool.client(host)
        async with self.pool.serialised(subscription_id, host.id):
            try:
                return "deleted" if await panel.delete_client(host.inbound_id, email) else "absent"
            except PanelLastClient:
                pass
            # v2/v3.0 keep at least one client per inbound: ours stays there, switched off.
            remote = await panel.find_client(host.inbound_id, email)
            if remote is None:
                return "absent"
            inbound = await self.pool.inbound(host)
            spec = ClientSpec(
                uuid=remote.uuid,
                email=email,
                sub_id=remote.sub_id,
                expiry_ms=expiry_ms(utcnow()),
                enable=False,
                flow=inbound.flow(),
            )
            await panel.upsert_client(host.inbound_id, spec, remote)
            return "disabled"

    async def record_usage(self, host_id: int, usage: dict[str, Usage]) -> int:
        """Store the panel's traffic counters on the host's client rows; returns the rows changed."""
        changed = 0
        async with self.sessions() as session, session.begin():
            for row in await session.scalars(select(PanelClient).where(PanelClient.host_id == host_id)):
                found = usage.get(row.email)
                if found is not None and (row.upload, row.download) != (found.up, found.down):
                    row.upload, row.download = found.up, found.down
                    changed += 1
        return changed

    async def mark_for_reconcile(self, subscription_id: int, host_id: int) -> None:
        """This client could not be written within the retry bound: reconciliation takes over."""
        async with self.sessions() as session, session.begin():
            found = await session.scalar(
                select(PanelClient).where(
                    PanelClient.subscription_id == subscription_id, PanelClient.host_id == host_id
                )
            )
            if found is not None:
                found.needs_reconcile = True
                return
            host = await session.get(Host, host_id)
            if host is None or await session.get(Subscription, subscription_id) is None:
                return
            secret = self.pool.sealer.derive("panel-identity")
            ident = client_identity(secret, subscription_id, host.inbound_id, self.prefix)
            dialect_name = session.get_bind().dialect.name
            await session.execute(
                _upsert_row(
                    dialect_name,
                    {
                        "subscription_id": subscription_id,
                        "host_id": host_id,
                        "client_uuid": ident.uuid,
                        "email": ident.email,
                        "sub_id": ident.sub_id,
                        "needs_reconcile": True,
                    },
                )
            )
