"""Putting a verified backup in place of the shop's database (the caller has checked that the
shop is stopped and kept a copy of the current database: shop.runtime.backups_cli)."""

from __future__ import annotations

import asyncio
import os
import shutil
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from shop.backups.make import libpq, run_tool, sqlite_path, tool
from shop.backups.manifest import BackupRefused

SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")


def _sqlite_replace(backup: Path, target: Path) -> None:
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    staged = target.with_name(target.name + ".restoring")
    shutil.copyfile(backup, staged)
    staged.chmod(0o600)
    # A -wal file left from the old database would be replayed into the restored one.
    for suffix in SQLITE_SIDE_FILES:
        target.with_name(target.name + suffix).unlink(missing_ok=True)
    os.replace(staged, target)  # atomic: the old file or the new one, never half of each


async def _pg_replace(url: str, backup: Path) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
    finally:
        await engine.dispose()
    conninfo, env = libpq(url)
    args = [tool("pg_restore"), "--no-owner", "--no-privileges", "--single-transaction", "--exit-on-error"]
    await run_tool([*args, f"--dbname={conninfo}", str(backup)], env)


async def put_in_place(url: str, kind: str, backup: Path) -> None:
    """Replaces the database at `url` by the backup's content (same kind of database only)."""
    if kind == "sqlite":
        await asyncio.to_thread(_sqlite_replace, backup, sqlite_path(url))
    elif kind == "postgresql":
        await _pg_replace(url, backup)
    else:
        raise BackupRefused(f"unknown database kind {kind!r} in the manifest")
