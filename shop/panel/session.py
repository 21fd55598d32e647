"""HTTP to one panel: version detection, login (cookie, CSRF, TOTP or Bearer), the JSON envelope,
one re-login when the session is gone, and typed errors instead of a transport's exceptions."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from shop.http_client import Answer, HttpClient, Timeouts, Unreachable
from shop.metrics.counters import count_panel_error, count_panel_request
from shop.panel import totp
from shop.panel.errors import (
    PanelAuthError,
    PanelDuplicate,
    PanelError,
    PanelLastClient,
    PanelNotFound,
    PanelRejected,
    PanelUnavailable,
)
from shop.panel.versions import PanelVersion

log = logging.getLogger(__name__)


DEFAULT_TIMEOUT = Timeouts.of(15.0)
# A probe email no shop ever uses: `clients/get/<it>` tells v3.1+ (JSON) from v3.0 (bare 404).
_PROBE = "vpnshop-version-probe"


@dataclass(frozen=True)
class PanelCredentials:
    url: str  # scheme://host:port/<webBasePath>/
    username: str = ""
    password: str = ""
    api_token: str = ""
    totp_secret: str = ""
    verify_tls: bool = True

    @property
    def base_url(self) -> str:
        return self.url.rstrip("/") + "/"


class _SessionGone(Exception):
    """The answer says "log in again" (401, bare 404, redirect, HTML, CSRF 403)."""


def path_part(value: str) -> str:
    return quote(value, safe="")


def _classify_failure(msg: str) -> PanelError:
    text = msg.strip()
    if "Duplicate email" in text or "already in use" in text:
        return PanelDuplicate(text)
    if "no client remained" in text:
        return PanelLastClient(text)
    if "record not found" in text or "Not Found" in text or "not found" in text:
        return PanelNotFound(text)
    return PanelRejected(text)


class PanelSession:
    def __init__(
        self,
        credentials: PanelCredentials,
        timeout: Timeouts = DEFAULT_TIMEOUT,
    ) -> None:
        self.credentials = credentials
        self.http = HttpClient(
            credentials.base_url,
            timeout,
            headers={"Accept": "application/json", "X-Requested-With": "XMLHttpRequest"},
            cookies=True,
            verify_tls=credentials.verify_tls,
        )
        self.version: PanelVersion | None = None
        self.calls = 0  # HTTP requests sent, for benchmarks and tests
        self._csrf: str | None = None
        self._logged_in = False
        self._generation = 0  # bumped on every login, so concurrent callers re-log in once
        self._lock = asyncio.Lock()

    @property
    def bearer(self) -> bool:
        return bool(self.credentials.api_token)

    async def aclose(self) -> None:
        await self.http.aclose()

    async def _send(self, method: str, path: str, **kwargs: Any) -> Answer:
        self.calls += 1
        try:
            response = await self.http.request(method, path, **kwargs)
        except Unreachable as error:
            count_panel_request(self.credentials.url, answered=False)
            raise PanelUnavailable(str(error)) from None
        count_panel_request(self.credentials.url, answered=True)
        return response

    def _auth_headers(self, method: str) -> dict[str, str]:
        if self.bearer:
            return {"Authorization": f"Bearer {self.credentials.api_token}"}
        if method != "GET" and self._csrf:
            return {"X-CSRF-Token": self._csrf}
        return {}

    # -- version and login -------------------------------------------------------------------

    async def _fetch_csrf(self) -> str | None:
        response = await self._send("GET", "csrf-token")
        if response.status_code == 404:
            return None
        body = self._json(response, "csrf-token")
        token = body.get("obj") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise PanelUnavailable("csrf-token: the answer carries no token")
        return token

    async def _login(self) -> None:
        if not self.bearer:
            self.http.clear_cookies()
        if self.version is None or self.version.has_csrf:
            # On v3 this also opens the cookie session that will hold the login.
            self._csrf = await self._fetch_csrf()
            if self.version is None and self._csrf is None:
                self.version = PanelVersion.V2
        if not self.bearer:
            await self._password_login()
        self._logged_in = True
        self._generation += 1

    async def _password_login(self) -> None:
        form = {"username": self.credentials.username, "password": self.credentials.password}
        if self.credentials.totp_secret:
            remaining = totp.STEP - time.time() % totp.STEP
            if remaining < 1.5:  # the panel checks only the current window: do not straddle it
                await asyncio.sleep(remaining)
            form["twoFactorCode"] = totp.totp(self.credentials.totp_secret)
        response = await self._send("POST", "login", data=form, headers=self._auth_headers("POST"))
        if response.status_code == 404:
            raise PanelNotFound(f"no 3x-ui login at {self.credentials.base_url}: check the URL and base path")
        if response.status_code == 403:
            raise PanelAuthError("login refused with HTTP 403 (Host check or CSRF)")
        body = self._json(response, "login")
        if not body.get("success"):
            raise PanelAuthError(f"login failed: {str(body.get('msg') or '').strip()}")
        if not self.http.has_cookies():
            raise PanelAuthError("login succeeded but the panel set no session cookie")
        if self._csrf is not None:
            # The token belongs to the session; take the one the logged-in session holds.
            self._csrf = await self._fetch_csrf() or self._csrf

    @contextlib.asynccontextmanager
    async def _errors_counted(self) -> AsyncIterator[None]:
        """Failures other than the answers a caller expects are counted per panel (shop/metrics)."""
        try:
            yield
        except (PanelNotFound, PanelDuplicate):
            raise
        except PanelError as error:
            count_panel_error(self.credentials.url, error)
            raise

    async def ensure_ready(self) -> PanelVersion:
        """Logged in and the version known (logging in first when needed)."""
        async with self._errors_counted():
            return await self._ready()

    async def _ready(self) -> PanelVersion:
        async with self._lock:
            if not self._logged_in:
                await self._login()
            if self.version is None:
                self.version = await self._detect_v3_flavour()
            return self.version

    async def _detect_v3_flavour(self) -> PanelVersion:
        response = await self._send(
            "GET", f"panel/api/clients/get/{_PROBE}", headers=self._auth_headers("GET")
        )
        if response.status_code == 404 and not response.content:
            return PanelVersion.V3_0
        if response.status_code in (401, 403):
            what = "the API token" if self.bearer else "the new session"
            raise PanelAuthError(f"the panel refused {what} (HTTP {response.status_code})")
        self._json(response, "clients/get")
        return PanelVersion.V3_1

    async def _relogin(self, seen_generation: int) -> None:
        async with self._lock:
            if self._generation == seen_generation:
                self._logged_in = False
                await self._login()

    # -- calls -------------------------------------------------------------------------------

    def _json(self, response: Answer, what: str) -> Any:
        if response.status_code >= 500:
            raise PanelUnavailable(f"{what}: panel answered HTTP {response.status_code}")
        if not response.content.strip():
            raise PanelUnavailable(f"{what}: empty answer (HTTP {response.status_code}), outcome unknown")
        try:
            return response.json()
        except ValueError:  # not JSON, or not UTF-8
            raise PanelUnavailable(f"{what}: answer is not JSON (HTTP {response.status_code})") from None

    def _check_session(self, response: Answer) -> None:
        status = response.status_code
        if status in (401, 404) or 300 <= status < 400:
            raise _SessionGone
        if status == 403 and not response.content.strip():
            raise _SessionGone  # v3: the CSRF token or its session is gone
        if "html" in response.headers.get("content-type", ""):
            raise _SessionGone

    async def call(self, method: str, path: str, *, json_body: Any = None) -> Any:
        """Send one API call and return the envelope's `obj`; raises a PanelError on failure."""
        async with self._errors_counted():
            return await self._call(method, path, json_body)

    async def _call(self, method: str, path: str, json_body: Any) -> Any:
        await self._ready()
        for attempt in (1, 2):
            generation = self._generation
            kwargs: dict[str, Any] = {"headers": self._auth_headers(method)}
            if method != "GET":
                kwargs["json"] = json_body if json_body is not None else {}
            response = await self._send(method, path, **kwargs)
            try:
                self._check_session(response)
            except _SessionGone:
                if attempt == 2 or self.bearer:
                    break
                log.info(
                    "panel %s: session gone (HTTP %s), logging in again",
                    self.http.base_url,
                    response.status_code,
                )
                await self._relogin(generation)
                continue
            body = self._json(response, path)
            if response.status_code == 403:
                raise PanelAuthError(f"{path}: {str(body.get('msg') or 'forbidden').strip()}")
            if not isinstance(body, dict) or "success" not in body:
                raise PanelUnavailable(f"{path}: answer is not a 3x-ui envelope")
            if not body["success"]:
                raise _classify_failure(str(body.get("msg") or ""))
            return body.get("obj")
        if self.bearer:
            raise PanelAuthError(f"{path}: the API token was rejected (HTTP {response.status_code})")
        raise PanelNotFound(f"{path}: HTTP {response.status_code} even after logging in again")
