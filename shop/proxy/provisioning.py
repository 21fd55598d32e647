"""Provisioning a customer's proxy: make the MTG panel hold it exactly as the ledger says.

Desired state comes from the database only: expiry = `subscriptions.proxy_expires_at` (absolute),
active = not expired and the customer not banned. Identity is deterministic (the proxy's name comes
from the subscription id), so a retried create finds the first one (a 409 or the lookup before
it) instead of making a second. The panel only adds whole days (`renew`), so every write is
preceded by a fresh read and computed from it: a retry after a lost answer adds nothing twice.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from shop.db import SessionFactory
from shop.models import MtgHost, ProxyClient, Subscription, User, utcnow
from shop.proxy.client import MtgClient, ProxyUser, renew_days
from shop.proxy.errors import MtgConflict, MtgUnavailable
from shop.proxy.pool import MtgPool

# The panel's expiry may run up to a day past the ledger's (whole days); more is drift worth a note.
AHEAD_TOLERANCE = timedelta(days=1)


class ProxyStatus(enum.StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    ABSENT = "absent"  # not active and not on the panel: nothing to stop
    NO_ACCESS = "no_access"  # never granted a proxy, or the subscription is gone
    NO_HOST = "no_host"  # no enabled MTG host to put it on


SERVING = (ProxyStatus.CREATED, ProxyStatus.UPDATED, ProxyStatus.UNCHANGED)


class ProxySync(BaseModel):
    subscription_id: int
    status: ProxyStatus
    host_id: int = 0
    drift: list[str] = []
    expires_at: datetime | None = None
    enabled: bool = False
    # No link here: it is the customer's credential, kept in proxy_clients, out of workflow histories.


@dataclass(frozen=True)
class DesiredProxy:
    subscription_id: int
    expires_at: datetime | None
    active: bool


def proxy_name(subscription_id: int, prefix: str) -> str:
    return f"{prefix}-proxy-{subscription_id}"


async def desired_proxy(
    sessions: SessionFactory, subscription_id: int, now: datetime | None = None
) -> DesiredProxy | None:
    async with sessions() as session:
        row = (
            await session.execute(
                select(Subscription.proxy_expires_at, User.banned)
                .join(User, User.id == Subscription.user_id)
                .where(Subscription.id == subscription_id)
            )
        ).first()
    if row is None:
        return None
    expires, banned = row
    return DesiredProxy(
        subscription_id, expires, bool(expires and expires > (now or utcnow()) and not banned)
    )


async def _save_row(session: AsyncSession, values: dict[str, Any]) -> None:
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    statement = dialect.insert(ProxyClient).values(**values)
    changes = {k: v for k, v in values.items() if k != "subscription_id"}
    await session.execute(statement.on_conflict_do_update(index_elements=["subscription_id"], set_=changes))


class ProxyProvisioner:
    def __init__(self, sessions: SessionFactory, pool: MtgPool, prefix: str) -> None:
        self.sessions = sessions
        self.pool = pool
        self.prefix = prefix

    async def placement(self, subscription_id: int) -> tuple[MtgHost | None, ProxyClient | None]:
        """The customer's proxy row and its host; without a row, the first enabled host. A proxy
        stays on its host: a disabled host holds its proxies where they are (None here)."""
        async with self.sessions() as session:
            row = await session.scalar(
                select(ProxyClient).where(ProxyClient.subscription_id == subscription_id)
            )
            if row is not None:
                host = await session.get(MtgHost, row.host_id)
                return (host if host is not None and host.enabled else None), row
            host = await session.scalar(
                select(MtgHost).where(MtgHost.enabled).order_by(MtgHost.sort_order, MtgHost.id).limit(1)
            )
            return host, None

    async def sync(self, subscription_id: int) -> ProxySync:
        async with self.pool.serialised(subscription_id):
            desired = await desired_proxy(self.sessions, subscription_id)
            if desired is None or desired.expires_at is None:
                return ProxySync(subscription_id=subscription_id, status=ProxyStatus.NO_ACCESS)
            host, row = await self.placement(subscription_id)
            if host is None:
                return ProxySync(subscription_id=subscription_id, status=ProxyStatus.NO_HOST)
            name = row.name if row is not None else proxy_name(subscription_id, self.prefix)
            client = self.pool.client(host)
            remote = await client.find_user(name)
            done = ProxySync(
                subscription_id=subscription_id,
                host_id=host.id,
                status=ProxyStatus.UNCHANGED,
                expires_at=desired.expires_at,
                enabled=desired.active,
            )
            if remote is None and not desired.active:
                done.status = ProxyStatus.ABSENT
                return done
            if remote is None:
                if row is not None and row.node:
                    done.drift.append("missing")
                remote = await self._create(client, name, desired)
                done.status = ProxyStatus.CREATED
            remote = await self._align(client, remote, desired, done)
            await self._remember(row, host.id, remote, desired)
            return done

    async def _create(self, client: MtgClient, name: str, desired: DesiredProxy) -> ProxyUser:
        assert desired.expires_at is not None
        node = await client.best_node()
        try:
            return await client.create_user(node.id, name, desired.expires_at)
        except MtgConflict:  # an earlier create went through and its answer was lost
            found = await client.find_user(name)
            if found is None:
                raise MtgUnavailable(f"{name}: the panel says it exists, then that it does not") from None
            return found

    async def _align(
        self, client: MtgClient, remote: ProxyUser, desired: DesiredProxy, done: ProxySync
    ) -> ProxyUser:
        assert desired.expires_at is not None
        days = renew_days(remote.expires_at, desired.expires_at, utcnow())
        if days and desired.active:
            remote = await client.renew(remote.node, remote.name, days)
            done.drift.append("expiry")
        elif remote.expires_at > desired.expires_at + AHEAD_TOLERANCE:
            done.drift.append("expiry_ahead")  # a refund: the panel cannot shorten; the stop covers it
        if remote.active != desired.active:
            remote = await client.set_active(remote.node, remote.name, desired.active)
            done.drift.append("active")
        if done.status is ProxyStatus.UNCHANGED and done.drift and done.drift != ["expiry_ahead"]:
            done.status = ProxyStatus.UPDATED
        return remote

    async def _remember(
        self, row: ProxyClient | None, host_id: int, remote: ProxyUser, desired: DesiredProxy
    ) -> None:
        values: dict[str, Any] = {
            "subscription_id": desired.subscription_id,
            "host_id": host_id,
            "name": remote.name,
            "node": remote.node,
            "link": remote.link,
            "expiry_written": desired.expires_at,
            "enabled_written": desired.active,
            "needs_reconcile": False,
        }
        if row is not None and all(getattr(row, k) == v for k, v in values.items()):
            return
        async with self.sessions() as session, session.begin():
            await _save_row(session, {**values, "last_sync_at": utcnow()})

    async def mark_for_reconcile(self, subscription_id: int) -> None:
        """Not written within the retry bound: the upkeep Schedule takes over."""
        host, row = await self.placement(subscription_id)
        if row is None and host is None:
            return
        async with self.sessions() as session, session.begin():
            if row is not None:
                found = await session.get(ProxyClient, row.id)
                if found is not None:
                    found.needs_reconcile = True
                return
            assert host is not None
            name = proxy_name(subscription_id, self.prefix)
            await _save_row(
                session,
                {
                    "subscription_id": subscription_id,
                    "host_id": host.id,
                    "name": name,
                    "needs_reconcile": True,
                },
            )

    async def remove(self, host: MtgHost, row: ProxyClient) -> str:
        """Delete the proxy from the panel: "deleted" or "absent"."""
        async with self.pool.serialised(row.subscription_id):
            client = self.pool.client(host)
            remote = await client.find_user(row.name)
            if remote is None:
                return "absent"
            return "deleted" if await client.delete(remote.node, row.name) else "absent"


async def proxies_due(sessions: SessionFactory, full: bool, now: datetime | None = None) -> list[int]:
    """Subscriptions whose proxy should be synced now. Without `full`: those whose panel state the
    database says is behind (expired but still on, renewed but off, a new expiry not written,
    marked for reconciliation, or entitled with no proxy yet). With `full`: every proxy and every
    entitlement, for the reconciliation that reads the panel to find drift nobody wrote down.
    Proxies on a disabled MTG host, and entitlements while no host is enabled, wait: nothing could
    be written for them (the operator's switch, not a fault)."""
    moment = now or utcnow()
    async with sessions() as session:
        any_host = await session.scalar(select(MtgHost.id).where(MtgHost.enabled).limit(1)) is not None
        rows = await session.execute(
            select(
                Subscription.id,
                Subscription.proxy_expires_at,
                User.banned,
                ProxyClient.id.label("row"),
                ProxyClient.expiry_written,
                ProxyClient.enabled_written,
                ProxyClient.needs_reconcile,
                MtgHost.enabled,
            )
            .join(User, User.id == Subscription.user_id)
            .outerjoin(ProxyClient, ProxyClient.subscription_id == Subscription.id)
            .outerjoin(MtgHost, MtgHost.id == ProxyClient.host_id)
            .where(Subscription.proxy_expires_at.is_not(None))
            .order_by(Subscription.id)
        )
    due: list[int] = []
    for sub_id, expires, banned, row, written, enabled, marked, host_on in rows:
        active = bool(expires and expires > moment and not banned)
        if row is None:
            behind = active and any_host
        else:
            behind = bool(host_on) and (full or marked or enabled != active or written != expires)
        if behind:
            due.append(sub_id)
    return due
