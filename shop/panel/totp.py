"""RFC 6238 TOTP (SHA1, 6 digits, 30 s), as 3x-ui checks its two-factor code."""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct
import time

STEP = 30
DIGITS = 6


def decode_secret(secret: str) -> bytes:
    cleaned = secret.replace(" ", "").upper()
    return base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))


def totp(secret: str, at: float | None = None) -> str:
    counter = int((time.time() if at is None else at) // STEP)
    digest = hmac.new(decode_secret(secret), struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    code = (struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF) % 10**DIGITS
    return str(code).zfill(DIGITS)


def valid_secret(secret: str) -> bool:
    try:
        return len(decode_secret(secret)) >= 10
    except ValueError:
        return False
