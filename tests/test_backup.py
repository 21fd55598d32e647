"""Backup and restore: backup -> wipe -> restore brings back the same shop (every table's row count
and digest) on SQLite and PostgreSQL; the manifest's checksum and metadata; a restore refuses
while the shop runs, a damaged or foreign backup, and changes nothing then; an older backup is
migrated to this version's schema; the command line as an owner runs it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import func, insert, select, text

from console.auth import LANG_COOKIE
from shop.access.ledger import grant
from shop.backups.digest import table_digests
from shop.backups.make import make_backup
from shop.backups.manifest import SECRET_KEY_NOTE, BackupRefused, manifest_path, read_verified
from shop.backups.shelf import shelved
from shop.db import create_engine, session_factory
from shop.models import AuditEntry, GrantKind, User
from shop.operators import audit
from shop.runtime import preflight
from shop.runtime.backups_cli import backup, restore
from shop.runtime.migrate import alembic_config, upgrade
from shop.runtime.temporal import free_port
from shop.settings import Settings, load_settings
from tests.conftest import Database
from tests.console_client import OWNER, SUPPORT, console_context, sign_in
from tests.panel_fixtures import TEST_KEY
from tests.shop_seed import generate, insert_seeded
from tests.sub_client import api_client

NOW = datetime(2026, 12, 7, 15, 30, tzinfo=UTC)
# The newest migration (read, not written here: every new migration would break a literal).
HEAD = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def _settings(url: str, tmp_path: Path) -> Settings:
    return load_settings(
        database_url=url,
        data_dir=tmp_path / "data",
        api_host="127.0.0.1",
        api_port=free_port(),
        temporal_address="127.0.0.1:7233",  # a cluster: no embedded Temporal ports to check
        encryption_key=TEST_KEY,
        _env_file=None,
    )


async def _seed(db: Database) -> None:
    shop = generate(NOW, customers=150, payments=500)
    await insert_seeded(db.sessions, shop)
    for n, subscription in enumerate(shop.subscriptions[:40]):
        await grant(db.sessions, subscription["id"], f"gift:{n}", timedelta(hours=36), GrantKind.GIFT, "op:1")
    async with db.sessions() as session, session.begin():
        await session.execute(
            insert(AuditEntry),
            [{"actor_id": 5001, "channel": "console", "action": "plan.create", "target": f"plan:{n}",
              "after": json.dumps({"name": "Месяц ✓"}), "reason": ""} for n in range(20)],
        )  # fmt: skip


def _unlink_sqlite(path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


async def _wipe(db: Database) -> None:
    """The database gone, and a fresh empty shop in its place (as after reinstalling)."""
    await db.engine.dispose()  # the shop is stopped: no connection stays open
    if db.backend == "sqlite":
        await asyncio.to_thread(_unlink_sqlite, Path(db.url.split("///", 1)[1]))
    else:
        engine = create_engine(db.url)
        async with engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
        await engine.dispose()
    await upgrade(db.url)


def _hold_open(database: str) -> subprocess.Popen[bytes]:
    """Another process with the SQLite file open (as a running shop has), once it has it open."""
    holder = subprocess.Popen(
        [sys.executable, "-c", f"import sqlite3,time; c=sqlite3.connect({database!r}); time.sleep(60)"]
    )
    fds, wanted = Path(f"/proc/{holder.pid}/fd"), str(Path(database).resolve())
    for _ in range(200):
        with contextlib.suppress(OSError):
            if any(os.readlink(fd) == wanted for fd in fds.iterdir()):
                return holder
        time.sleep(0.05)
    holder.kill()
    raise AssertionError("the holder never opened the database")


async def test_backup_wipe_restore_brings_back_the_same_shop(db: Database, tmp_path: Path) -> None:
    await _seed(db)
    settings = _settings(db.url, tmp_path)
    before = await table_digests(db.url)
    assert before["users"].rows == 150 and before["grants"].rows == 40 and before["audit_log"].rows == 20

    path, manifest = await backup(settings)
    assert path.parent == settings.data_dir / "backups" and path.stat().st_mode & 0o777 == 0o600
    assert manifest.tables == before  # the digests describe exactly what the backup holds
    assert (manifest.database, manifest.schema_revision) == (
        "sqlite" if db.backend == "sqlite" else "postgresql",
        HEAD,
    )
    saved = json.loads(manifest_path(path).read_text())
    assert saved["secret_key"] == SECRET_KEY_NOTE and saved["sha256"] == manifest.sha256
    assert saved["tables"]["payments"] == {"rows": 500, "sha256": before["payments"].sha256}
    assert read_verified(path) == manifest

    if db.backend == "postgresql":  # the test's own pool still holds a session: refused, named
        async with db.sessions() as session:
            await session.execute(select(1))
        with pytest.raises(preflight.StartRefused, match="the database has another session"):
            await restore(settings, path)

    await _wipe(db)
    done = await restore(settings, path)
    assert (done.revision, done.tables) == (HEAD, len(before))
    assert await table_digests(db.url) == before  # every table: the same rows, the same values
    # The wiped shop was kept before it was replaced: empty, and restorable the same way.
    assert done.kept is not None and read_verified(done.kept).tables["users"].rows == 0
    async with db.sessions() as session:  # the shop's own engine works on the restored database
        assert await session.scalar(select(func.count()).select_from(User)) == 150


async def test_a_restore_refuses_and_changes_nothing(sqlite_db: Database, tmp_path: Path) -> None:
    await _seed(sqlite_db)
    settings = _settings(sqlite_db.url, tmp_path)
    path, _ = await backup(settings)
    before = await table_digests(sqlite_db.url)

    damaged = tmp_path / "damaged.db"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    damaged.write_bytes(bytes(data))
    manifest_path(damaged).write_text(manifest_path(path).read_text())
    with pytest.raises(BackupRefused, match="the checksum does not match its manifest"):
        await restore(settings, damaged)

    alone = tmp_path / "alone.db"
    alone.write_bytes(path.read_bytes())
    with pytest.raises(BackupRefused, match=r"alone\.db\.json: missing"):
        await restore(settings, alone)

    foreign = json.loads(manifest_path(path).read_text()) | {"database": "postgresql"}
    manifest_path(alone).write_text(json.dumps(foreign))
    with pytest.raises(BackupRefused, match="is a postgresql backup and this shop's database is sqlite"):
        await restore(settings, alone)

    with preflight.data_dir_lock(settings.data_dir), pytest.raises(preflight.StartRefused, match="in use by"):
        await restore(settings, path)  # `vpnshop up` holds the data directory

    with socket.socket() as api:  # something serves on the API's port
        api.bind((settings.api_host, settings.api_port))
        api.listen()
        with pytest.raises(preflight.StartRefused, match=f"port {settings.api_port} \\(API_PORT"):
            await restore(settings, path)

    holder = await asyncio.to_thread(_hold_open, sqlite_db.url.split("///", 1)[1])
    try:
        with pytest.raises(preflight.StartRefused, match=f"process {holder.pid} has the database"):
            await restore(settings, path)
    finally:
        holder.kill()
        holder.wait()

    assert await table_digests(sqlite_db.url) == before
    kept = [p.name for p in (settings.data_dir / "backups").iterdir() if p.name.startswith("before-restore")]
    assert kept == []  # refused before anything was copied or replaced


async def test_an_older_backup_is_migrated_to_this_version(sqlite_db: Database, tmp_path: Path) -> None:
    old_url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    await upgrade(old_url, "0004_referrals")
    engine = create_engine(old_url)
    async with session_factory(engine)() as session, session.begin():
        await session.execute(
            text("INSERT INTO users (id, username, full_name, language, banned, trial_used, created_at, "
                 "updated_at) VALUES (7, 'old', 'Old Timer', 'en', 0, 0, '2025-01-01', '2025-01-01')")
        )  # fmt: skip
    await engine.dispose()
    old_backup = tmp_path / "old-backup.db"
    manifest = await make_backup(old_url, old_backup)
    assert manifest.schema_revision == "0004_referrals" and manifest.tables["users"].rows == 1

    settings = _settings(sqlite_db.url, tmp_path)
    await sqlite_db.engine.dispose()
    done = await restore(settings, old_backup)
    assert done.revision == HEAD  # migrated after it was put in place
    async with sqlite_db.sessions() as session:
        assert (await session.get(User, 7)) is not None
        assert await session.scalar(select(func.count()).select_from(User)) == 1


def test_the_command_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TEMPORAL_", "DATABASE_", "API_"))}
    env.update(DATA_DIR=str(tmp_path / "data"), TELEGRAM_BOT_TOKEN="", API_PORT=str(free_port()))
    env.update(TEMPORAL_ADDRESS="127.0.0.1:7233", ENCRYPTION_KEY=TEST_KEY)  # DATA_DIR/vpnshop.db

    def vpnshop(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "shop.runtime.cli", *args],
            env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120,
        )  # fmt: skip

    assert vpnshop("migrate").returncode == 0
    out = tmp_path / "nightly.db"
    made = vpnshop("backup", "--out", str(out))
    assert made.returncode == 0, made.stderr
    assert f"backup: {out}\nmanifest: {out}.json\nsha256: " in made.stdout
    assert "!!! Keep DATA_DIR/secret.key" in made.stdout and "the ENCRYPTION_KEY setting" in made.stdout
    again = vpnshop("backup", "--out", str(out))
    assert (again.returncode, again.stderr.strip()) == (1, f"vpnshop: {out} exists: choose another file")

    restored = vpnshop("restore", str(out))
    assert restored.returncode == 0, restored.stderr
    assert (
        f"schema: {HEAD} -> {HEAD};" in restored.stdout
        and "the database as it was before:" in restored.stdout
    )

    missing = vpnshop("restore", str(tmp_path / "nope.db"))
    assert (missing.returncode, missing.stderr.strip()) == (
        1,
        f"vpnshop: {tmp_path / 'nope.db'}: no such file",
    )


async def test_the_console_makes_lists_and_serves_backups(sqlite_db: Database, tmp_path: Path) -> None:
    await _seed(sqlite_db)
    ctx = console_context(sqlite_db, data_dir=tmp_path / "data")
    async with api_client(ctx) as client:
        csrf = await sign_in(client, ctx, OWNER)
        client.cookies.set(LANG_COOKIE, "en")
        empty = await client.get("/console/backups")
        assert "No backups yet." in empty.text and "Keep the secret key too." in empty.text
        assert (await client.post("/console/backups", data={})).status_code == 403  # no CSRF token
        made = await client.post("/console/backups", data={"csrf_token": csrf})
        assert made.status_code == 303 and made.headers["location"] == "/console/backups?done=done_backup"
        [item] = await shelved(ctx.settings)
        assert item.manifest is not None
        now = await table_digests(sqlite_db.url)  # the backup's own entry came after the backup
        assert item.manifest.tables["audit_log"].rows == now["audit_log"].rows - 1 == 20
        assert {k: v for k, v in item.manifest.tables.items() if k != "audit_log"} == {
            k: v for k, v in now.items() if k != "audit_log"
        }
        page = (await client.get("/console/backups")).text
        assert item.path.name in page and item.manifest.sha256[:16] in page
        download = await client.get(f"/console/backups/file/{item.path.name}")
        assert download.status_code == 200 and download.content == item.path.read_bytes()
        served = await client.get(f"/console/backups/file/{item.path.name}.json")
        assert served.json()["sha256"] == item.manifest.sha256
        for name in ("..%2Fvpnshop.db", "secret.key", "vpnshop.lock"):
            assert (await client.get(f"/console/backups/file/{name}")).status_code == 404
        rows, _ = await audit.entries(ctx.sessions)
        assert [(r.action, r.actor_id, r.target) for r in rows if r.action.startswith("backup.")] == [
            ("backup.create", OWNER, f"backup:{item.path.name}")
        ]
        await sign_in(client, ctx, SUPPORT)
        assert (await client.get("/console/backups")).status_code == 403
