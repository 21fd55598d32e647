"""The shop's outbound HTTP: panels, payment providers and proxy servers, over aiohttp.

One small client for the three, so each speaks in its own errors and none handles a transport's
exceptions: a call answers with the whole body read (`Answer`), or raises `Unreachable` when there
is no answer to read (refused, reset, timed out). httpx cost 1.4 ms of CPU a request here alone and
2.2–2.4 ms with 20 or more in flight, aiohttp 0.35 and 0.18 (`bench/http_client_bench.py`): in a
burst of payments that was 14 % of the shop's process, as each paid order makes four panel calls
and a provider check.
"""

from __future__ import annotations

import base64
import json
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
from multidict import CIMultiDictProxy
from yarl import URL

# Connections kept per client (one client per panel, provider or proxy server): as many as the
# worker's activity slots may use at once, as httpx allowed.
CONNECTIONS = 100


class Unreachable(Exception):
    """No answer: the connection failed, broke or timed out. The message says which."""


@dataclass(frozen=True)
class Timeouts:
    """`connect`: to open a connection; `read`: for the answer (between bytes) and for a free
    connection of the client's pool."""

    read: float
    connect: float

    @classmethod
    def of(cls, seconds: float) -> Timeouts:
        return cls(read=seconds, connect=min(5.0, seconds))


@dataclass(frozen=True)
class Answer:
    status_code: int
    content: bytes
    headers: CIMultiDictProxy[str]

    def json(self) -> Any:
        """Raises ValueError (json.JSONDecodeError, UnicodeDecodeError) when the body is not JSON."""
        return json.loads(self.content)

    @property
    def text(self) -> str:
        return self.content.decode(errors="replace")


def _proxy_for(url: URL) -> str | None:
    """The proxy the environment names for this URL (HTTP(S)_PROXY, unless NO_PROXY spares its host),
    as httpx honoured them. Read once per client: aiohttp's own `trust_env` reads the environment
    again for every request, 0.4 ms of CPU each here."""
    proxy = urllib.request.getproxies().get(url.scheme)
    if not proxy or urllib.request.proxy_bypass(url.host or ""):
        return None
    return proxy


class HttpClient:
    """Requests relative to one base URL (its path kept: a panel's secret base path), with default
    headers; redirects are answers, not followed. `cookies`: keep the server's cookies (a panel's
    login session), for hosts given by IP address too. The aiohttp session opens with the first
    request, inside the event loop that uses it."""

    def __init__(
        self,
        base_url: str,
        timeouts: Timeouts,
        *,
        headers: Mapping[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        cookies: bool = False,
        verify_tls: bool = True,
    ) -> None:
        base = URL(base_url.rstrip("/") + "/")
        self.base_url = str(base)
        self.proxy = _proxy_for(base)
        self.timeouts = timeouts
        self.headers = dict(headers or {})
        if auth:
            self.headers["Authorization"] = "Basic " + base64.b64encode(":".join(auth).encode()).decode()
        self.cookies = cookies
        self.verify_tls = verify_tls
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            jar: aiohttp.abc.AbstractCookieJar = (
                aiohttp.CookieJar(unsafe=True) if self.cookies else aiohttp.DummyCookieJar()
            )
            self._session = aiohttp.ClientSession(
                headers=self.headers,
                cookie_jar=jar,
                connector=aiohttp.TCPConnector(limit=CONNECTIONS, ssl=self.verify_tls),
                timeout=aiohttp.ClientTimeout(
                    total=None,
                    connect=self.timeouts.read + self.timeouts.connect,
                    sock_connect=self.timeouts.connect,
                    sock_read=self.timeouts.read,
                ),
            )
        return self._session

    @property
    def is_open(self) -> bool:
        """Holds connections (a request was made and `aclose` has not been called since)."""
        return self._session is not None and not self._session.closed

    def has_cookies(self) -> bool:
        return self._session is not None and len(self._session.cookie_jar) > 0

    def clear_cookies(self) -> None:
        if self._session is not None:
            self._session.cookie_jar.clear()

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        data: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Answer:
        """`path` is relative to the base URL; what it leaves unquoted is quoted here."""
        url = URL(self.base_url + path.lstrip("/"))
        try:
            async with self._open().request(
                method,
                url,
                json=json,
                data=data,
                params=params,
                headers=headers,
                allow_redirects=False,
                proxy=self.proxy,
            ) as response:
                return Answer(response.status, await response.read(), response.headers)
        except TimeoutError as error:  # aiohttp's connect and read timeouts are TimeoutErrors
            raise Unreachable(f"{method} {path}: timed out ({type(error).__name__})") from None
        except aiohttp.ClientError as error:
            raise Unreachable(f"{method} {path}: {type(error).__name__}: {error}") from None

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
