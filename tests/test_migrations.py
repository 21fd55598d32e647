"""Migrations build the models' exact schema, and go down and up again, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, make_url

from shop.db import create_engine, recreate_database
from shop.models import Base
from shop.runtime.migrate import downgrade_sync, upgrade_sync

EXPECTED_UNIQUE: dict[str, set[tuple[str, ...]]] = {
    "subscriptions": {("token",), ("user_id",)},
    "grants": {("source_key",)},
    "panel_clients": {("subscription_id", "host_id")},
    "payments": {("method", "provider_payment_id")},
    "reminders": {("subscription_id", "expires_at", "mark")},
    "broadcast_deliveries": {("broadcast_id", "user_id")},
    "referral_rewards": {("payment_id",)},
}
EXPECTED_INDEXED = {
    "subscriptions": {"expires_at"},
    "payments": {"user_id"},
    "users": {"username"},
    "referral_rewards": {"referrer_id"},
    "withdrawals": {"user_id"},
}


async def _recreate_postgres(url: str) -> str:
    parsed = make_url(url)
    scratch = parsed.set(database=f"{parsed.database}_migrations").render_as_string(hide_password=False)
    await recreate_database(scratch)
    return scratch


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def scratch_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'migrations.db'}"
    else:
        yield await _recreate_postgres(request.getfixturevalue("postgres_url"))


def _differences(connection: Connection) -> list[object]:
    return list(compare_metadata(MigrationContext.configure(connection), Base.metadata))


def _constraints(connection: Connection) -> tuple[dict[str, set[tuple[str, ...]]], dict[str, set[str]]]:
    inspector = inspect(connection)
    unique: dict[str, set[tuple[str, ...]]] = {}
    indexed: dict[str, set[str]] = {}
    for table in inspector.get_table_names():
        unique[table] = {tuple(c["column_names"]) for c in inspector.get_unique_constraints(table)}
        for index in inspector.get_indexes(table):
            indexed.setdefault(table, set()).update(c for c in index["column_names"] if c)
    return unique, indexed


async def test_migrations_match_models_and_round_trip(scratch_url: str) -> None:
    await _run(upgrade_sync, scratch_url)
    engine = create_engine(scratch_url)
    async with engine.connect() as connection:
        assert await connection.run_sync(_differences) == []
        unique, indexed = await connection.run_sync(_constraints)
    for table, keys in EXPECTED_UNIQUE.items():
        assert keys <= unique[table], f"{table} lacks UNIQUE {keys - unique[table]}"
    for table, columns in EXPECTED_INDEXED.items():
        assert columns <= indexed[table], f"{table} lacks an index on {columns - indexed[table]}"

    await _run(downgrade_sync, scratch_url, "base")
    async with engine.connect() as connection:
        tables = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
    assert tables <= {"alembic_version"}
    await _run(upgrade_sync, scratch_url)
    async with engine.connect() as connection:
        assert await connection.run_sync(_differences) == []
    await engine.dispose()


async def _run(function: Callable[..., None], *args: str) -> None:
    # Alembic's env.py runs its own event loop, so migrations go to a thread.
    await asyncio.to_thread(function, *args)


async def test_0004_gives_earlier_payments_their_rub_worth(scratch_url: str) -> None:
    """Payments minted before the referral program had no discount: RUB ones are worth their amount,
    Stars ones their plan's RUB price (the reward's base)."""
    await _run(upgrade_sync, scratch_url, "0003_broadcasts")
    engine = create_engine(scratch_url)
    now = datetime.now(UTC)
    async with engine.begin() as connection:
        await connection.execute(
            text(
                "INSERT INTO users (id, full_name, language, banned, trial_used, created_at, updated_at) "
                "VALUES (1, 'A', 'ru', false, false, :now, :now)"
            ),
            {"now": now},
        )
        await connection.execute(
            text(
                "INSERT INTO plans (id, name, duration_days, price, currency, price_stars, active,"
                " sort_order, created_at) VALUES (1, 'Month', 30, 199, 'RUB', 150, true, 0, :now)"
            ),
            {"now": now},
        )
        earlier = (("rub", "yookassa", 199, "RUB"), ("xtr", "stars", 150, "XTR"))
        for payment_id, method, amount, currency in earlier:
            await connection.execute(
                text(
                    "INSERT INTO payments (id, user_id, plan_id, method, amount, currency, status,"
                    " created_at, updated_at)"
                    " VALUES (:id, 1, 1, :method, :amount, :currency, 'delivered', :now, :now)"
                ),
                {"id": payment_id, "method": method, "amount": amount, "currency": currency, "now": now},
            )
    await _run(upgrade_sync, scratch_url)
    async with engine.connect() as connection:
        rows = await connection.execute(
            text("SELECT id, discount_percent, price_rub FROM payments ORDER BY id")
        )
        assert [(i, d, Decimal(str(p)).quantize(Decimal("0.01"))) for i, d, p in rows] == [
            ("rub", 0, Decimal("199.00")),
            ("xtr", 0, Decimal("199.00")),
        ]
    await engine.dispose()
