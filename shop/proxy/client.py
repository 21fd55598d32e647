"""HTTP client for one MTG admin panel (seed-system.md §5.6): token login cached for its lifetime
and renewed once on a 401, explicit timeouts, typed errors instead of a transport's exceptions."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import quote

from pydantic import BaseModel, ValidationError

from shop.http_client import Answer, HttpClient, Timeouts, Unreachable
from shop.proxy.errors import (
    MtgAuthError,
    MtgConflict,
    MtgNotFound,
    MtgRejected,
    MtgUnavailable,
)

M = TypeVar("M", bound=BaseModel)

# The panel's tokens live an hour; renewing a minute early keeps a call from racing the end.
TOKEN_LIFETIME = 3600.0
TOKEN_MARGIN = 60.0
DAY = timedelta(days=1)


DEFAULT_TIMEOUT = Timeouts.of(15.0)


@dataclass(frozen=True)
class MtgCredentials:
    url: str  # scheme://host:port/ of the admin panel
    username: str
    password: str

    @property
    def base_url(self) -> str:
        return self.url.rstrip("/") + "/"


class Node(BaseModel):
    id: str
    host: str = ""
    port: int = 0
    online: bool = True
    users: int = 0
    load: float = 0.0


class ProxyUser(BaseModel):
    name: str
    node: str
    link: str
    expires_at: datetime
    active: bool


def iso_z(moment: datetime) -> str:
    """Whole seconds, rounded up: the panel's expiry is never short of the ledger's (which would
    cost a whole extra `renew` day on the next sync)."""
    if moment.microsecond:
        moment = moment.replace(microsecond=0) + timedelta(seconds=1)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def renew_days(remote: datetime, wanted: datetime, now: datetime) -> int:
    """Whole days `renew` must add so the panel's expiry reaches `wanted` (0: it already does).
    The panel adds to max(expiry, now), and only whole days: it may end up to a day late, which
    the shop's own stop at the ledger's expiry covers."""
    missing = wanted - max(remote, now)
    return max(0, math.ceil(missing / DAY))


def part(value: str) -> str:
    return quote(value, safe="")


class MtgClient:
    def __init__(
        self,
        credentials: MtgCredentials,
        timeout: Timeouts = DEFAULT_TIMEOUT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.credentials = credentials
        self.http = HttpClient(credentials.base_url, timeout)
        self.clock = clock
        self.calls = 0  # HTTP requests sent, for tests
        self._token: str | None = None
        self._token_until = 0.0
        self._lock = asyncio.Lock()

    async def aclose(self) -> None:
        await self.http.aclose()

    async def __aenter__(self) -> MtgClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()

    async def _send(self, method: str, path: str, **kwargs: Any) -> Answer:
        self.calls += 1
        try:
            return await self.http.request(method, path, **kwargs)
        except Unreachable as error:
            raise MtgUnavailable(str(error)) from None

    async def _login(self, stale: str | None) -> str:
        async with self._lock:
            if self._token is not None and self._token != stale and self.clock() < self._token_until:
                return self._token  # another caller logged in meanwhile
            body = {"username": self.credentials.username, "password": self.credentials.password}
            answer = await self._send("POST", "api/login", json=body)
            if answer.status_code in (401, 403):
                raise MtgAuthError(f"login refused: {_message(answer)}")
            token = _json(answer).get("token") if answer.status_code == 200 else None
            if not isinstance(token, str) or not token:
                raise MtgUnavailable(f"login: HTTP {answer.status_code} without a token")
            lifetime = float(_json(answer).get("expires_in") or TOKEN_LIFETIME)
            self._token, self._token_until = token, self.clock() + max(lifetime - TOKEN_MARGIN, 1.0)
            return token

    async def _token_now(self) -> str:
        if self._token is not None and self.clock() < self._token_until:
            return self._token
        return await self._login(None)

    async def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        token = await self._token_now()
        answer = await self._send(method, path, json=body, headers={"x-auth-token": token})
        if answer.status_code == 401:  # the token died early (panel restart): log in again, once
            token = await self._login(token)
            answer = await self._send(method, path, json=body, headers={"x-auth-token": token})
        if answer.status_code >= 500:
            raise MtgUnavailable(f"{method} {path}: HTTP {answer.status_code} {_message(answer)}")
        if answer.status_code == 401:
            raise MtgAuthError(f"{method} {path}: token refused right after login")
        if answer.status_code == 404:
            raise MtgNotFound(f"{method} {path}: {_message(answer)}")
        if answer.status_code == 409:
            raise MtgConflict(f"{method} {path}: {_message(answer)}")
        if answer.status_code >= 400:
            raise MtgRejected(f"{method} {path}: HTTP {answer.status_code} {_message(answer)}")
        return _json(answer)

    # -- the panel's verbs -------------------------------------------------------------------

    async def nodes(self) -> list[Node]:
        found = await self.call("GET", "api/nodes")
        return _parse_list(Node, found)

    async def best_node(self) -> Node:
        return _parse(Node, await self.call("GET", "api/nodes/best"))

    async def find_user(self, name: str) -> ProxyUser | None:
        try:
            return _parse(ProxyUser, await self.call("GET", f"api/users/{part(name)}"))
        except MtgNotFound:
            return None

    async def create_user(self, node: str, name: str, expires_at: datetime) -> ProxyUser:
        body = {"name": name, "expires_at": iso_z(expires_at)}
        return _parse(ProxyUser, await self.call("POST", f"api/nodes/{part(node)}/users", body))

    async def renew(self, node: str, name: str, days: int) -> ProxyUser:
        path = f"api/nodes/{part(node)}/users/{part(name)}/renew"
        return _parse(ProxyUser, await self.call("POST", path, {"days": days}))

    async def set_active(self, node: str, name: str, active: bool) -> ProxyUser:
        verb = "start" if active else "stop"
        return _parse(ProxyUser, await self.call("POST", f"api/nodes/{part(node)}/users/{part(name)}/{verb}"))

    async def delete(self, node: str, name: str) -> bool:
        """True when deleted, False when it was not there."""
        try:
            await self.call("DELETE", f"api/nodes/{part(node)}/users/{part(name)}")
        except MtgNotFound:
            return False
        return True

    async def link(self, name: str) -> str:
        user = await self.find_user(name)
        if user is None:
            raise MtgNotFound(f"user {name} not found")
        return user.link


def _json(answer: Answer) -> Any:
    try:
        return answer.json()
    except ValueError:
        raise MtgUnavailable(f"HTTP {answer.status_code}: not JSON ({answer.text[:80]!r})") from None


def _message(answer: Answer) -> str:
    try:
        found = answer.json()
    except ValueError:
        return answer.text[:200]
    return str(found.get("error", "")) if isinstance(found, dict) else str(found)[:200]


def _parse(model: type[M], value: Any) -> M:
    try:
        return model.model_validate(value)
    except ValidationError as error:
        raise MtgUnavailable(f"unexpected answer for {model.__name__}: {error.errors()[0]['msg']}") from None


def _parse_list(model: type[M], value: Any) -> list[M]:
    if not isinstance(value, list):
        raise MtgUnavailable(f"expected a list of {model.__name__}")
    return [_parse(model, item) for item in value]
