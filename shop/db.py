"""Database engines and sessions shared by every process."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

SessionFactory = async_sessionmaker[AsyncSession]


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets /sub readers run beside writers; busy_timeout turns lock contention into waiting.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    # Parameters carry subscription tokens and customers' details: never in logs or error texts.
    kwargs.setdefault("hide_parameters", True)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    kwargs.setdefault("pool_pre_ping", True)
    return create_async_engine(url, **kwargs)


def session_factory(engine: AsyncEngine) -> SessionFactory:
    return async_sessionmaker(engine, expire_on_commit=False)


def engine_of(sessions: SessionFactory) -> AsyncEngine:
    """The engine behind `sessions`. The hot payment steps run Core statements on one of its
    connections: a Session's unit of work costs more CPU than those few statements themselves."""
    engine = sessions.kw["bind"]
    assert isinstance(engine, AsyncEngine)
    return engine


async def recreate_database(url: str) -> None:
    """Drop and create the PostgreSQL database named in `url` (tests and benchmarks start clean)."""
    parsed = make_url(url)
    admin = create_engine(parsed.set(database="postgres").render_as_string(hide_password=False))
    async with admin.connect() as connection:
        connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
        await connection.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}"'))
        await connection.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    await admin.dispose()
