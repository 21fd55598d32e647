"""A digest per table: its rows, in primary-key order, hashed (sha256) with their count. Two
databases of the same kind with the same digests hold the same shop. The tables are read from
the database itself (reflected), so tables of any capability and `alembic_version` count too."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, MetaData, select
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

BATCH = 2000


@dataclass(frozen=True)
class TableDigest:
    rows: int
    sha256: str

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def _canonical(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, bool | int | str) or value is None:
        return value
    return str(value)  # Decimal and the rest: their exact text


def _digests(connection: Connection) -> dict[str, TableDigest]:
    metadata = MetaData()
    metadata.reflect(connection)
    found: dict[str, TableDigest] = {}
    for name in sorted(metadata.tables):
        table = metadata.tables[name]
        order = list(table.primary_key.columns) or list(table.columns)
        digest, rows = hashlib.sha256(), 0
        result = connection.execution_options(yield_per=BATCH).execute(select(table).order_by(*order))
        for row in result:
            digest.update(json.dumps([_canonical(v) for v in row], ensure_ascii=False).encode())
            digest.update(b"\n")
            rows += 1
        found[name] = TableDigest(rows, digest.hexdigest())
    return found


async def digests_on(connection: AsyncConnection) -> dict[str, TableDigest]:
    """The digests as this connection (and its transaction, if one is open) sees the database."""
    return await connection.run_sync(_digests)


async def table_digests(url: str) -> dict[str, TableDigest]:
    """The digests of the database at `url`, on a connection of its own (no pragmas set: reading
    a backup file leaves it as it is)."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            return await digests_on(connection)
    finally:
        await engine.dispose()


async def revision_on(connection: AsyncConnection) -> str:
    """The schema revision Alembic recorded ("" for a database never migrated)."""

    def read(sync: Connection) -> str:
        metadata = MetaData()
        metadata.reflect(sync, only=lambda name, _: name == "alembic_version")
        table = metadata.tables.get("alembic_version")
        return "" if table is None else str(sync.execute(select(table)).scalar() or "")

    return await connection.run_sync(read)
