"""The backups kept in DATA_DIR/backups: making one on an operator's request (written to the audit
log), and listing them with their manifests for the console."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from pathlib import Path

from shop.backups.make import SUFFIX, database_kind, default_path, make_backup
from shop.backups.manifest import Manifest, manifest_path
from shop.db import SessionFactory
from shop.operators import audit
from shop.operators.audit import Actor
from shop.settings import Settings

BACKUPS_DIR = "backups"


def backups_dir(settings: Settings) -> Path:
    return settings.data_dir / BACKUPS_DIR


@dataclass(frozen=True)
class Shelved:
    path: Path
    manifest: Manifest | None  # None: its manifest is missing or unreadable (it cannot be restored)


async def create(sessions: SessionFactory, settings: Settings, actor: Actor) -> tuple[Path, Manifest]:
    """A backup into DATA_DIR/backups, and its audit entry once it is complete."""
    target = default_path(backups_dir(settings), database_kind(settings.db_url))
    manifest = await make_backup(settings.db_url, target)
    async with sessions() as session, session.begin():
        audit.record(
            session,
            actor,
            "backup.create",
            f"backup:{target.name}",
            after={"sha256": manifest.sha256, "bytes": manifest.bytes, "revision": manifest.schema_revision},
        )
    return target, manifest


def _read(path: Path) -> Shelved:
    try:
        return Shelved(path, Manifest.from_json(json.loads(manifest_path(path).read_text())))
    except (OSError, ValueError, KeyError, TypeError):
        return Shelved(path, None)


def _shelved(folder: Path) -> list[Shelved]:
    if not folder.is_dir():
        return []
    found = [p for p in folder.iterdir() if p.is_file() and p.suffix in SUFFIX.values()]
    return [_read(path) for path in sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)]


async def shelved(settings: Settings) -> list[Shelved]:
    """Every backup in DATA_DIR/backups, newest first."""
    return await asyncio.to_thread(_shelved, backups_dir(settings))


async def find(settings: Settings, name: str) -> Path | None:
    """A backup or its manifest by file name, only from the shelf's own listing (no paths)."""
    for item in await shelved(settings):
        files = [item.path, manifest_path(item.path)] if item.manifest else [item.path]
        for path in files:
            if path.name == name:
                return path
    return None
