"""`vpnshop backup [--out FILE]` and `vpnshop restore FILE`.

A restore stops nothing and hides nothing: it refuses while any part of the shop runs (the data
directory's lock that `vpnshop up` holds, the API's port, processes with the SQLite file open,
other sessions on the PostgreSQL database), verifies the backup's checksum, keeps a backup of the
current database (restorable the same way), puts the backup in place, migrates it to this
version's schema and checks that it opens and holds what its manifest says. It holds the data
directory's lock throughout, so `vpnshop up` cannot start in the middle.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from shop.backups.digest import TableDigest, digests_on, revision_on
from shop.backups.make import database_kind, default_path, make_backup, sqlite_path
from shop.backups.manifest import SECRET_KEY_NOTE, BackupRefused, Manifest, read_verified
from shop.backups.restore import put_in_place
from shop.backups.shelf import backups_dir
from shop.crypto import KEY_FILE
from shop.runtime import preflight
from shop.runtime.migrate import upgrade
from shop.settings import Settings


def add_parser(commands: Any) -> None:
    backup = commands.add_parser("backup", help="a consistent backup of the shop's database, with a manifest")
    backup.add_argument("--out", type=Path, help="the backup file (default: DATA_DIR/backups/vpnshop-<time>)")
    restore = commands.add_parser(
        "restore", help="replace the shop's database by a backup (the shop must be stopped)"
    )
    restore.add_argument("file", type=Path, help="a file made by `vpnshop backup` (its .json beside it)")


def _key_line(settings: Settings) -> str:
    if settings.encryption_key is not None:
        where = "the ENCRYPTION_KEY setting"
    else:
        where = str(settings.data_dir / KEY_FILE)
    return f"!!! {SECRET_KEY_NOTE}\n!!! This shop's key: {where}"


def describe(manifest: Manifest, path: Path) -> str:
    rows = sum(digest.rows for digest in manifest.tables.values())
    return (
        f"backup: {path}\nmanifest: {path}.json\nsha256: {manifest.sha256}\n"
        f"database: {manifest.database}, schema {manifest.schema_revision or '(none)'}, "
        f"{len(manifest.tables)} tables, {rows} rows, vpnshop {manifest.shop_version}"
    )


async def backup(settings: Settings, out: Path | None = None) -> tuple[Path, Manifest]:
    target = out or default_path(backups_dir(settings), database_kind(settings.db_url))
    return target, await make_backup(settings.db_url, target)


# Is the shop running? ----------------------------------------------------------------------------


def _holders(path: Path) -> list[int]:
    """Processes (of this user) with `path` open, from /proc; our own process excluded."""
    wanted = {str(path.resolve())} | {str(path.resolve()) + s for s in ("-wal", "-shm")}
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        with contextlib.suppress(OSError):
            if any(os.readlink(fd) in wanted for fd in (entry / "fd").iterdir()):
                found.append(int(entry.name))
    return sorted(found)


async def _pg_sessions(url: str) -> list[str]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                text(
                    "SELECT pid, coalesce(nullif(application_name, ''), 'a client'), "
                    "coalesce(client_addr::text, 'local') FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
            return [f"{name} from {address} (backend PID {pid})" for pid, name, address in rows.all()]
    finally:
        await engine.dispose()


async def running_reasons(settings: Settings) -> list[str]:
    """Why the shop looks running; empty when it does not. (The data directory's lock is taken
    by the caller: `vpnshop up` holding it is refused there.)"""
    reasons = []
    try:
        preflight.check_ports(settings)
    except preflight.StartRefused as busy:
        reasons += str(busy).splitlines()
    if database_kind(settings.db_url) == "sqlite":
        path = sqlite_path(settings.db_url)
        if path.exists():
            reasons += [f"process {pid} has the database {path} open" for pid in _holders(path)]
    else:
        reasons += [f"the database has another session: {who}" for who in await _pg_sessions(settings.db_url)]
    return reasons


# Restore -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Restored:
    manifest: Manifest
    kept: Path | None  # the database as it was before, backed up (None: there was none)
    revision: str  # the schema after migrating
    tables: int  # tables checked against the manifest


def _exists(settings: Settings) -> bool:
    return database_kind(settings.db_url) == "postgresql" or sqlite_path(settings.db_url).exists()


def _integrity(settings: Settings) -> None:
    if database_kind(settings.db_url) != "sqlite":
        return
    with contextlib.closing(sqlite3.connect(sqlite_path(settings.db_url))) as connection:
        answer = connection.execute("PRAGMA integrity_check").fetchone()
    if not answer or answer[0] != "ok":
        raise BackupRefused(f"the restored database fails SQLite's integrity check: {answer}")


async def _opened(settings: Settings) -> tuple[str, dict[str, TableDigest]]:
    engine = create_async_engine(settings.db_url)
    try:
        async with engine.connect() as connection:
            return await revision_on(connection), await digests_on(connection)
    finally:
        await engine.dispose()


def _compare(manifest: Manifest, revision: str, found: dict[str, TableDigest]) -> int:
    """Same schema: every table's digest as saved. Migrated since: every table's row count (a
    migration may add columns or fill them in)."""
    differ = []
    for name, saved in manifest.tables.items():
        if name == "alembic_version":
            continue
        now = found.get(name)
        if now is None:
            differ.append(f"{name}: missing")
        elif revision == manifest.schema_revision and now != saved:
            differ.append(f"{name}: {now.rows} rows, digest differs (saved: {saved.rows} rows)")
        elif now.rows != saved.rows:
            differ.append(f"{name}: {now.rows} rows (saved: {saved.rows})")
    if differ:
        raise BackupRefused("the restored database differs from its manifest: " + "; ".join(differ))
    return len(manifest.tables)


async def restore(settings: Settings, file: Path) -> Restored:
    manifest = read_verified(file)
    kind = database_kind(settings.db_url)
    if manifest.database != kind:
        raise BackupRefused(
            f"{file} is a {manifest.database} backup and this shop's database is {kind}: restore it "
            "into a shop configured with the same kind of database"
        )
    with preflight.data_dir_lock(settings.data_dir):
        reasons = await running_reasons(settings)
        if reasons:
            raise preflight.StartRefused(
                "\n".join(["the shop looks running; stop every vpnshop process first:", *reasons])
            )
        kept = None
        if _exists(settings):
            kept, _ = await backup(
                settings, default_path(backups_dir(settings), kind, prefix="before-restore")
            )
        try:
            await put_in_place(settings.db_url, kind, file)
        except Exception as error:
            if kept is not None:
                await put_in_place(settings.db_url, kind, kept)
                raise BackupRefused(f"{error}\nthe database was put back as it was ({kept})") from error
            raise
        await upgrade(settings.db_url)
        _integrity(settings)
        revision, found = await _opened(settings)
        checked = _compare(manifest, revision, found)
    return Restored(manifest, kept, revision, checked)


async def run(args: argparse.Namespace, settings: Settings) -> str:
    if args.command == "backup":
        path, manifest = await backup(settings, args.out)
        return f"{describe(manifest, path)}\n\n{_key_line(settings)}"
    done = await restore(settings, args.file)
    made = f"{done.manifest.created_at:%Y-%m-%d %H:%M:%S} UTC"
    lines = [
        f"restored {args.file} ({done.manifest.database}, made {made})",
        f"schema: {done.manifest.schema_revision} -> {done.revision}; "
        f"{done.tables} tables match the manifest",
        f"the database as it was before: {done.kept} (restore it the same way)" if done.kept else "",
        _key_line(settings),
    ]
    return "\n".join(line for line in lines if line)
