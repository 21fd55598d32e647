"""Sandbox panel authentication: cookie sessions, v3 CSRF tokens, Bearer tokens, TOTP, the
v3 login limiter (5 failures per IP and user in 5 minutes block the pair for 15 minutes)."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field

from shop.panel.totp import totp

LIMIT_FAILURES = 5
LIMIT_WINDOW = 300.0
LIMIT_BLOCK = 900.0


@dataclass
class Session:
    created: float
    csrf: str = ""
    user: str = ""  # empty until a successful login


@dataclass
class Auth:
    username: str
    password: str
    totp_secret: str = ""
    session_ttl: float = 6 * 3600.0
    tokens: dict[str, set[str]] = field(default_factory=dict)  # API token -> scopes
    sessions: dict[str, Session] = field(default_factory=dict)
    failures: dict[tuple[str, str], list[float]] = field(default_factory=dict)
    blocked_until: dict[tuple[str, str], float] = field(default_factory=dict)
    clock_offset: float = 0.0
    logins: int = 0

    def now(self) -> float:
        return time.time() + self.clock_offset

    def new_session(self, csrf: bool) -> str:
        cookie = secrets.token_urlsafe(24)
        self.sessions[cookie] = Session(self.now(), secrets.token_urlsafe(32) if csrf else "")
        return cookie

    def session(self, cookie: str | None) -> Session | None:
        found = self.sessions.get(cookie or "")
        if found is not None and self.now() - found.created > self.session_ttl:
            del self.sessions[cookie or ""]
            return None
        return found

    def expire_all(self) -> None:
        self.sessions.clear()

    def check_password(self, ip: str, username: str, password: str, code: str, limiter: bool) -> bool:
        pair = (ip, username)
        if limiter and self.blocked_until.get(pair, 0.0) > self.now():
            return False  # while blocked the answer is the same as for a wrong password
        ok = secrets.compare_digest(username, self.username) and secrets.compare_digest(
            password, self.password
        )
        if ok and self.totp_secret:
            ok = secrets.compare_digest(code, totp(self.totp_secret, self.now()))
        if ok:
            self.failures.pop(pair, None)
            self.logins += 1
            return True
        if limiter:
            recent = [t for t in self.failures.get(pair, []) if self.now() - t < LIMIT_WINDOW] + [self.now()]
            self.failures[pair] = recent
            if len(recent) >= LIMIT_FAILURES:
                self.blocked_until[pair] = self.now() + LIMIT_BLOCK
        return False

    def token_scopes(self, header: str) -> set[str] | None:
        if not header.startswith("Bearer "):
            return None
        return self.tokens.get(header.removeprefix("Bearer ").strip())
