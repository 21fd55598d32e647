"""Secrets at rest: host passwords, API tokens and TOTP secrets, sealed with Fernet.

The key is ENCRYPTION_KEY. In embedded mode (no TEMPORAL_ADDRESS) a missing key is generated once
into DATA_DIR/secret.key (mode 0600); scaled setups must share one key, so there it is required.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from shop.settings import Settings, SettingsError

log = logging.getLogger(__name__)

KEY_FILE = "secret.key"


class SecretUnreadable(ValueError):
    """A stored secret was sealed with another key (ENCRYPTION_KEY changed?)."""


def _generated_key(data_dir: Path) -> bytes:
    path = data_dir / KEY_FILE
    if path.exists():
        return path.read_bytes().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key()
    try:
        # O_EXCL: when two processes start at once, exactly one key wins and the other reads it.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes().strip()
    with os.fdopen(fd, "wb") as out:
        out.write(key + b"\n")
    log.warning("generated a new encryption key in %s: back it up, stored panel secrets need it", path)
    return key


def encryption_key(settings: Settings) -> bytes:
    if settings.encryption_key is not None:
        key = settings.encryption_key.get_secret_value().encode()
        try:
            Fernet(key)
        except ValueError:
            raise SettingsError(
                "invalid setting ENCRYPTION_KEY: must be 32 url-safe base64-encoded bytes "
                '(make one with: python -c "from cryptography.fernet import Fernet; '
                'print(Fernet.generate_key().decode())")'
            ) from None
        return key
    if not settings.embedded_temporal:
        raise SettingsError("invalid setting ENCRYPTION_KEY: required when TEMPORAL_ADDRESS is set")
    return _generated_key(settings.data_dir)


class Sealer:
    """Encrypts and decrypts host secrets; an empty secret stays empty (nothing to hide)."""

    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)
        self._key = key

    @classmethod
    def from_settings(cls, settings: Settings) -> Sealer:
        return cls(encryption_key(settings))

    def seal(self, plain: str) -> str:
        return self._fernet.encrypt(plain.encode()).decode() if plain else ""

    def open(self, sealed: str) -> str:
        if not sealed:
            return ""
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken:
            raise SecretUnreadable("a stored host secret cannot be decrypted with ENCRYPTION_KEY") from None

    def derive(self, purpose: str) -> bytes:
        """A sub-key for one purpose, so the Fernet key itself is never used for anything else."""
        return hmac.new(self._key, purpose.encode(), hashlib.sha256).digest()
