"""Sealed host secrets, the embedded key file, and deterministic client identities."""

from __future__ import annotations

import stat
import uuid
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from shop.crypto import Sealer, SecretUnreadable, encryption_key
from shop.panel.identity import client_identity, parse_email
from shop.settings import SettingsError, load_settings


def settings(tmp_path: Path, **values: object):
    return load_settings(_env_file=None, data_dir=tmp_path, **values)


def test_seal_and_open_round_trip_and_a_wrong_key_is_refused() -> None:
    sealer = Sealer(Fernet.generate_key())
    sealed = sealer.seal("hunter2")
    assert sealed != "hunter2" and sealer.open(sealed) == "hunter2"
    assert sealer.seal("") == "" and sealer.open("") == ""
    with pytest.raises(SecretUnreadable):
        Sealer(Fernet.generate_key()).open(sealed)


def test_embedded_mode_generates_one_private_key_file(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    first = encryption_key(settings(tmp_path))
    path = tmp_path / "secret.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "generated a new encryption key" in caplog.text
    assert encryption_key(settings(tmp_path)) == first  # reused, not regenerated


def test_a_bad_key_or_a_missing_one_outside_embedded_mode_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="ENCRYPTION_KEY: must be 32 url-safe"):
        encryption_key(settings(tmp_path, encryption_key="short"))
    with pytest.raises(SettingsError, match="required when TEMPORAL_ADDRESS is set"):
        encryption_key(settings(tmp_path, temporal_address="temporal:7233"))
    assert not (tmp_path / "secret.key").exists()


def test_identity_is_deterministic_secret_keyed_and_parseable() -> None:
    secret, other = b"a" * 32, b"b" * 32
    first = client_identity(secret, 42, 3)
    assert first == client_identity(secret, 42, 3)
    assert uuid.UUID(first.uuid).version == 4 and first.email == "vpnshop-42-3"
    assert client_identity(secret, 42, 5).uuid == first.uuid  # one UUID and subId on every host
    assert client_identity(secret, 43, 3).uuid != first.uuid
    assert client_identity(other, 42, 3).uuid != first.uuid  # not guessable without the secret
    assert parse_email(first.email) == (42, 3) and parse_email("operator-phone") is None
    assert client_identity(secret, 42, 3, prefix="shop2").email == "shop2-42-3"
