"""Shared fixtures: the real Temporal dev server, real SQLite and PostgreSQL, a worker per test."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import pytest
from playwright.async_api import Browser, async_playwright
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from shop.context import AppContext
from shop.db import SessionFactory, create_engine, session_factory
from shop.models import Base
from shop.runtime.migrate import upgrade
from shop.runtime.temporal import EmbeddedTemporal, connect, free_port
from shop.settings import load_settings
from worker.main import build_worker

NAMESPACE = "vpnshop"


@pytest.fixture(scope="session")
def temporal_server() -> Iterator[EmbeddedTemporal]:
    server = EmbeddedTemporal(port=free_port(), ui_port=None, namespace=NAMESPACE)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
async def temporal_client(temporal_server: EmbeddedTemporal) -> Client:
    return await connect(temporal_server.address, NAMESPACE)


def _docker_available() -> bool:
    if shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "info"], capture_output=True, check=False).returncode == 0


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        yield _per_worker(url)
        return
    if not _docker_available():
        pytest.skip("PostgreSQL: set TEST_DATABASE_URL (make test does) or run a Docker engine")
    from testcontainers.postgres import PostgresContainer

    with PostgresContainer("postgres:16", driver="asyncpg") as container:
        yield container.get_connection_url()


def _per_worker(url: str) -> str:
    """Under pytest-xdist each worker gets its own database beside the given one (created on
    first use), because every test empties the schema it runs on."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return url
    parsed = make_url(url)
    name = f"{parsed.database}_{worker}"
    admin = parsed.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    exists = subprocess.run(
        ["psql", admin, "-Atqc", f"select 1 from pg_database where datname = '{name}'"],
        capture_output=True,
        text=True,
        check=True,
    )
    if exists.stdout.strip() != "1":
        subprocess.run(["psql", admin, "-qc", f'create database "{name}"'], capture_output=True, check=True)
    return parsed.set(database=name).render_as_string(hide_password=False)


@dataclass
class Database:
    backend: str
    url: str
    engine: AsyncEngine
    sessions: SessionFactory


async def _fresh_postgres(url: str) -> None:
    engine = create_engine(url)
    async with engine.begin() as connection:
        await connection.execute(text("DROP SCHEMA public CASCADE"))
        await connection.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


async def _open(backend: str, url: str) -> Database:
    if backend == "postgres":
        await _fresh_postgres(url)
    await upgrade(url)
    engine = (
        create_engine(url, pool_size=20, max_overflow=40) if backend == "postgres" else create_engine(url)
    )
    return Database(backend, url, engine, session_factory(engine))


@pytest.fixture(scope="session")
async def open_databases() -> AsyncIterator[dict[str, Database]]:
    """Each backend is migrated once per run, on first use, in the session's event loop."""
    opened: dict[str, Database] = {}
    yield opened
    for database in opened.values():
        await database.engine.dispose()


async def _database(request: pytest.FixtureRequest, backend: str, opened: dict[str, Database]) -> Database:
    if backend not in opened:
        if backend == "postgres":
            url = request.getfixturevalue("postgres_url")
        else:
            path = request.getfixturevalue("tmp_path_factory").mktemp("db") / "shop.db"
            url = f"sqlite+aiosqlite:///{path}"
        opened[backend] = await _open(backend, url)
    database = opened[backend]
    await _empty(database)
    return database


async def _empty(database: Database) -> None:
    tables = [table.name for table in reversed(Base.metadata.sorted_tables)]
    async with database.engine.begin() as connection:
        if database.backend == "postgres":
            await connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                await connection.execute(text(f"DELETE FROM {table}"))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def db(request: pytest.FixtureRequest, open_databases: dict[str, Database]) -> Database:
    """An empty, migrated database: each test using it runs on SQLite and on PostgreSQL."""
    return await _database(request, request.param, open_databases)


@pytest.fixture
async def sqlite_db(request: pytest.FixtureRequest, open_databases: dict[str, Database]) -> Database:
    """An empty, migrated SQLite database, for tests whose subject is not the database."""
    return await _database(request, "sqlite", open_databases)


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """Debian's Chromium driven by Playwright (no browser download)."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("chromium is not installed (.ci/run installs Debian's chromium package)")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        yield launched
        await launched.close()


@pytest.fixture
def task_queue() -> str:
    return f"test-{uuid.uuid4().hex[:12]}"


def make_context(
    database: Database, client: Client | None, task_queue: str, **settings: object
) -> AppContext:
    values: dict[str, object] = {
        "database_url": database.url,
        "temporal_address": "in-test",
        "temporal_task_queue": task_queue,
        # Panel secrets are sealed with it, and a cluster address makes it required.
        "encryption_key": TEST_KEY,
        # Every workflow a test runs goes through the sandbox's determinism checks; the shop runs
        # without them (shop/settings.py), and the burst test runs as the shop does.
        "workflow_sandbox": True,
        "_env_file": None,
    }
    values.update(settings)
    return AppContext(load_settings(**values), database.engine, database.sessions, client)


@pytest.fixture
async def ctx(sqlite_db: Database, temporal_client: Client, task_queue: str) -> AppContext:
    return make_context(sqlite_db, temporal_client, task_queue)


@pytest.fixture
async def running_worker(ctx: AppContext, temporal_client: Client) -> AsyncIterator[AppContext]:
    """A worker with every workflow and activity, on this test's own task queue."""
    async with build_worker(ctx, temporal_client):
        yield ctx


# Sandbox 3x-ui panels (see tests/panel_fixtures.py).
from tests.panel_fixtures import TEST_KEY, any_panel, panel_ctx, panel_worker, start_panel  # noqa: E402, F401

# A sandbox Telegram Bot API and a shop sending through it (see tests/telegram_fixtures.py).
from tests.telegram_fixtures import telegram, telegram_shop  # noqa: E402, F401
