"""The manifest beside each backup (`<backup>.json`): what it is, its checksum, and the digest of
every table, so a restore can prove it brought back what was saved."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from shop.backups.digest import TableDigest

FORMAT = "vpnshop-backup/1"
SECRET_KEY_NOTE = (
    "Keep DATA_DIR/secret.key (or the ENCRYPTION_KEY setting) as well: the panel passwords and "
    "tokens in this backup are encrypted with it and cannot be decrypted without it. The key is "
    "NOT in this backup, on purpose: store it apart from the backups."
)
CHUNK = 1 << 20


class BackupRefused(Exception):
    """A backup cannot be made or used; the message says why and what to do."""


@dataclass(frozen=True)
class Manifest:
    database: str  # "sqlite" or "postgresql"
    file: str  # the backup's file name, beside this manifest
    bytes: int
    sha256: str
    created_at: datetime
    schema_revision: str
    shop_version: str
    tables: dict[str, TableDigest] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "database": self.database,
            "file": self.file,
            "bytes": self.bytes,
            "sha256": self.sha256,
            "created_at": self.created_at.isoformat(),
            "schema_revision": self.schema_revision,
            "shop_version": self.shop_version,
            "tables": {name: digest.as_json() for name, digest in self.tables.items()},
            "secret_key": SECRET_KEY_NOTE,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Manifest:
        return cls(
            str(data["database"]),
            str(data["file"]),
            int(data["bytes"]),
            str(data["sha256"]),
            datetime.fromisoformat(str(data["created_at"])),
            str(data["schema_revision"]),
            str(data["shop_version"]),
            {name: TableDigest(int(d["rows"]), str(d["sha256"])) for name, d in data["tables"].items()},
        )


def manifest_path(backup: Path) -> Path:
    return backup.with_name(backup.name + ".json")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def write_manifest(backup: Path, manifest: Manifest) -> Path:
    path = manifest_path(backup)
    path.write_text(json.dumps(manifest.as_json(), indent=2, ensure_ascii=False) + "\n")
    path.chmod(0o600)
    return path


def read_verified(backup: Path) -> Manifest:
    """The backup's manifest once the file's checksum matches it; BackupRefused otherwise."""
    if not backup.is_file():
        raise BackupRefused(f"{backup}: no such file")
    path = manifest_path(backup)
    try:
        data = json.loads(path.read_text())
        if data.get("format") != FORMAT:
            raise ValueError(f"format {data.get('format')!r}")
        manifest = Manifest.from_json(data)
    except FileNotFoundError:
        raise BackupRefused(
            f"{path}: missing. A backup is used only with the manifest `vpnshop backup` wrote beside it"
        ) from None
    except (ValueError, KeyError, TypeError) as error:
        raise BackupRefused(f"{path}: not a vpnshop backup manifest ({error})") from None
    size = backup.stat().st_size
    if size != manifest.bytes or file_sha256(backup) != manifest.sha256:
        raise BackupRefused(
            f"{backup}: the checksum does not match its manifest (damaged or changed since it was "
            "made); nothing was restored"
        )
    return manifest
