"""Reading a subscription for `/sub`: one indexed query by token, whether the token exists or not.

`/sub` is the hottest path in the shop (every app polls it), so it skips the ORM and SQLAlchemy's
async adapter, which cost ~30x the query itself: on SQLite it runs the statement on a plain
`sqlite3` connection (WAL readers never wait for writers; a lookup takes tens of microseconds, less
than a hop to a worker thread), on PostgreSQL on a small asyncpg pool of its own. The statement is
compiled from the models, so it follows the schema. Each lookup is its own read: a rotated token
stops matching at once.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import and_, bindparam, select
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine

from shop.models import Host, PanelClient, Subscription, User


@dataclass(frozen=True)
class CachedServer:
    name: str  # the shop's display name for the host: flag and name
    link: str  # the vless:// link provisioning cached for this subscription on this host


@dataclass(frozen=True)
class SubscriptionRecord:
    subscription_id: int
    token: str
    expires_at: datetime | None
    created_at: datetime
    banned: bool
    language: str
    servers: tuple[CachedServer, ...]  # in the shop's host order
    upload: int  # bytes, summed over the subscription's clients at the last panel sync
    download: int


# The token is matched by the database through its UNIQUE index; Python never compares it.
_BY_TOKEN = (
    select(
        Subscription.id,
        Subscription.expires_at,
        Subscription.created_at,
        User.banned,
        User.language,
        Host.name,
        Host.flag,
        PanelClient.link,
        PanelClient.upload,
        PanelClient.download,
    )
    .select_from(Subscription)
    .join(User, User.id == Subscription.user_id)
    .outerjoin(PanelClient, PanelClient.subscription_id == Subscription.id)
    .outerjoin(Host, and_(Host.id == PanelClient.host_id, Host.enabled.is_(True)))
    .where(Subscription.token == bindparam("token"))  # compiled to the driver's positional marker
    .order_by(Host.sort_order, Host.id)
)


def statement_for(dialect: Dialect) -> str:
    return str(_BY_TOKEN.compile(dialect=dialect))


def _utc(value: datetime | str | None) -> datetime | None:
    if value is None:
        return None
    parsed = datetime.fromisoformat(value) if isinstance(value, str) else value
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def record_from(token: str, rows: Sequence[Sequence[Any]]) -> SubscriptionRecord | None:
    if not rows:
        return None
    first = rows[0]
    created_at = _utc(first[2])
    assert created_at is not None
    return SubscriptionRecord(
        subscription_id=first[0],
        token=token,
        expires_at=_utc(first[1]),
        created_at=created_at,
        banned=bool(first[3]),
        language=first[4],
        servers=tuple(
            CachedServer(f"{row[6]} {row[5]}".strip(), row[7]) for row in rows if row[5] and row[7]
        ),
        upload=sum(row[8] or 0 for row in rows),
        download=sum(row[9] or 0 for row in rows),
    )


class SubscriptionReader(Protocol):
    statement: str

    async def find(self, token: str) -> SubscriptionRecord | None: ...

    async def close(self) -> None: ...


class StoreUnavailable(Exception):
    """The database cannot be reached now (restarting, a network cut): try again in a few seconds."""


class SqliteReader:
    def __init__(self, path: str, statement: str) -> None:
        self.path = path
        self.statement = statement
        self.connection: sqlite3.Connection | None = None

    def connect(self) -> sqlite3.Connection:
        if self.connection is None:
            self.connection = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self.connection.execute("PRAGMA query_only=ON")
            self.connection.execute("PRAGMA busy_timeout=1000")  # bounds a stall of the event loop
        return self.connection

    async def find(self, token: str) -> SubscriptionRecord | None:
        return record_from(token, self.connect().execute(self.statement, (token,)).fetchall())

    async def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


class PostgresReader:
    def __init__(self, dsn: str, statement: str, max_size: int = 10) -> None:
        self.dsn = dsn
        self.statement = statement
        self.max_size = max_size
        self.pool: Any = None

    async def find(self, token: str) -> SubscriptionRecord | None:
        import asyncpg

        # A lost server (restart, failover, network) is no bug of this request: the caller answers
        # "try again"; the pool replaces the broken connections on the next acquire.
        lost = (
            OSError,
            asyncpg.PostgresConnectionError,
            asyncpg.InterfaceError,
            asyncpg.OperatorInterventionError,
        )
        try:
            if self.pool is None:
                self.pool = await asyncpg.create_pool(self.dsn, min_size=1, max_size=self.max_size)
            async with self.pool.acquire() as connection:
                return record_from(token, await connection.fetch(self.statement, token))
        except lost as error:
            raise StoreUnavailable(f"{type(error).__name__}: {error}") from None

    async def close(self) -> None:
        if self.pool is not None:
            await self.pool.close()
            self.pool = None


def reader_for(engine: AsyncEngine) -> SubscriptionReader:
    url = engine.url
    statement = statement_for(engine.dialect)
    if url.get_backend_name() == "sqlite":
        if not url.database or url.database == ":memory:":
            raise ValueError("/sub needs a database file (an in-memory SQLite is private to one connection)")
        return SqliteReader(url.database, statement)
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    return PostgresReader(dsn, statement)
