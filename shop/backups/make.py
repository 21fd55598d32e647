"""Making a backup: a consistent copy of the database and its manifest.

- SQLite: the online backup API (`sqlite3.Connection.backup`) copies a consistent snapshot while
  the shop keeps writing; the copy is switched to a self-contained journal (no -wal file needed).
- PostgreSQL: `pg_dump --format=custom` (restore with `pg_restore`), run inside a snapshot this
  module exports (`pg_export_snapshot()`) and reads the table digests in, so the manifest and the
  dump describe the same moment. Credentials go to pg_dump through the environment, never argv.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import create_async_engine

from shop.backups.digest import TableDigest, digests_on, revision_on, table_digests
from shop.backups.manifest import BackupRefused, Manifest, file_sha256, write_manifest
from shop.models import utcnow

SUFFIX = {"sqlite": ".db", "postgresql": ".dump"}


def shop_version() -> str:
    try:
        return version("vpnshop")
    except PackageNotFoundError:
        return "unknown"


def database_kind(url: str) -> str:
    return "sqlite" if make_url(url).get_backend_name() == "sqlite" else "postgresql"


def sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupRefused("an in-memory SQLite database has nothing to back up")
    return Path(database)


def libpq(url: str) -> tuple[str, dict[str, str]]:
    """A libpq connection string without the password, and the environment carrying it."""
    parsed: URL = make_url(url).set(drivername="postgresql")
    env = {"PGPASSWORD": parsed.password} if parsed.password else {}
    return parsed.set(password=None).render_as_string(hide_password=False), env


def tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupRefused(
            f"{name} not found: install the PostgreSQL client tools (Debian: postgresql-client) of "
            "the server's major version or newer"
        )
    return found


def default_path(backups: Path, kind: str, prefix: str = "vpnshop") -> Path:
    return backups / f"{prefix}-{utcnow():%Y%m%d-%H%M%S-%f}{SUFFIX[kind]}"


def _claim(target: Path) -> None:
    """The backup's file, new and private (customers' details and sealed panel secrets)."""
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        target.touch(mode=0o600, exist_ok=False)
    except FileExistsError:
        raise BackupRefused(f"{target} exists: choose another file") from None


def _sqlite_copy(source: Path, target: Path) -> None:
    if not source.is_file():
        raise BackupRefused(f"{source}: the shop's database does not exist")
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")  # one file, whatever mode the shop runs in
    src.close()
    dst.close()


async def run_tool(args: list[str], env: dict[str, str]) -> None:
    process = await asyncio.create_subprocess_exec(
        *args,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, **env},
    )
    _, stderr = await process.communicate()
    if process.returncode != 0:
        raise BackupRefused(f"{Path(args[0]).name} failed: {stderr.decode(errors='replace').strip()[:2000]}")


async def _pg_dump(url: str, target: Path) -> tuple[str, dict[str, TableDigest]]:
    conninfo, env = libpq(url)
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            snapshot_connection = await connection.execution_options(isolation_level="REPEATABLE READ")
            async with snapshot_connection.begin():
                snapshot = str(await snapshot_connection.scalar(text("SELECT pg_export_snapshot()")))
                args = [tool("pg_dump"), "--format=custom", f"--snapshot={snapshot}", "--no-owner"]
                args += ["--no-privileges", f"--file={target}", f"--dbname={conninfo}"]
                # pg_dump takes the snapshot as it starts; it must stay exported until then.
                dumping = asyncio.create_task(run_tool(args, env))
                revision = await revision_on(snapshot_connection)
                digests = await digests_on(snapshot_connection)
                await dumping
    finally:
        await engine.dispose()
    return revision, digests


async def make_backup(url: str, target: Path) -> Manifest:
    """Backs up the database at `url` into `target` (created 0600, with `<target>.json`)."""
    kind = database_kind(url)
    await asyncio.to_thread(_claim, target)
    try:
        if kind == "sqlite":
            await asyncio.to_thread(_sqlite_copy, sqlite_path(url), target)
            copy_url = f"sqlite+aiosqlite:///{target}"
            digests = await table_digests(copy_url)
            engine = create_async_engine(copy_url)
            try:
                async with engine.connect() as connection:
                    revision = await revision_on(connection)
            finally:
                await engine.dispose()
        else:
            revision, digests = await _pg_dump(url, target)
    except BaseException:
        await asyncio.to_thread(target.unlink, missing_ok=True)
        raise
    size, checksum = await asyncio.to_thread(lambda: (target.stat().st_size, file_sha256(target)))
    manifest = Manifest(
        kind,
        target.name,
        size,
        checksum,
        utcnow(),
        revision,
        shop_version(),
        digests,
    )
    write_manifest(target, manifest)
    return manifest
