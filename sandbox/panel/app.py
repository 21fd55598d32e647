"""The sandbox panel's HTTP surface: 3x-ui routes under the base path, per version mode."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import Counter
from typing import Any
from urllib.parse import parse_qs

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from sandbox.panel.auth import Auth, Session
from sandbox.panel.clients_api import ClientsApi
from sandbox.panel.errors import Panic, ServiceError
from sandbox.panel.faults import Faults
from sandbox.panel.routes import dispatch
from sandbox.panel.state import V2, PanelState
from sandbox.panel.types import InvalidJson

LOGIN_OK = "You have successfully logged into your account."
LOGIN_BAD = "Invalid username or password or two-factor code."


def envelope(success: bool, msg: str, obj: Any = None) -> Response:
    return JSONResponse({"success": success, "msg": msg, "obj": obj})


def bare(status: int) -> Response:
    return Response(status_code=status)


class PanelApp:
    def __init__(
        self,
        state: PanelState,
        auth: Auth,
        faults: Faults,
        base_path: str = "/",
        cookie_name: str = "3x-ui",
        legacy_unauth: bool = False,
        web_domain: str = "",
    ) -> None:
        self.state, self.auth, self.faults = state, auth, faults
        self.base = "/" + base_path.strip("/") + "/" if base_path.strip("/") else "/"
        self.cookie_name = cookie_name
        self.legacy_unauth = legacy_unauth
        self.web_domain = web_domain
        self.clients = ClientsApi(state)
        self.calls: Counter[str] = Counter()  # "METHOD route" -> count

    @property
    def v3(self) -> bool:
        return self.state.version != V2

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        response = await self.handle(request)
        await response(scope, receive, send)

    async def handle(self, request: Request) -> Response:
        path = request.scope["path"]
        self.calls[f"{request.method} {path.removeprefix(self.base)}"] += 1
        if self.faults.delay:
            await asyncio.sleep(self.faults.delay)
        if self.web_domain and request.url.hostname != self.web_domain:
            return bare(403)
        if not path.startswith(self.base):
            return bare(404)
        rel = path[len(self.base) :]
        if rel == "csrf-token" and request.method == "GET":
            return self._csrf_token(request) if self.v3 else bare(404)
        if rel == "login" and request.method == "POST":
            return await self._login(request)
        if rel.startswith("panel/api/"):
            return await self._api(request, rel.removeprefix("panel/api/"))
        return bare(404)

    # -- authentication ----------------------------------------------------------------------

    def _session(self, request: Request) -> tuple[str, Session | None]:
        cookie = request.cookies.get(self.cookie_name, "")
        return cookie, self.auth.session(cookie)

    def _set_cookie(self, response: Response, cookie: str) -> None:
        response.set_cookie(
            self.cookie_name,
            cookie,
            max_age=int(self.auth.session_ttl),
            path=self.base if self.v3 else "/",
            httponly=True,
            samesite="lax",
        )

    def _csrf_token(self, request: Request) -> Response:
        cookie, session = self._session(request)
        if session is None:
            cookie = self.auth.new_session(csrf=True)
            session = self.auth.sessions[cookie]
        response = envelope(True, "", session.csrf)
        self._set_cookie(response, cookie)
        return response

    async def _form(self, request: Request) -> dict[str, Any]:
        raw = await request.body()
        if "json" in request.headers.get("content-type", ""):
            try:
                parsed = json.loads(raw or b"{}")
            except json.JSONDecodeError:
                return {"_invalid": True}
            return parsed if isinstance(parsed, dict) else {"_invalid": True}
        return {k: v[0] for k, v in parse_qs(raw.decode(errors="replace")).items()}

    async def _api_body(self, request: Request) -> Any:
        """A JSON body as parsed (any JSON type: binding judges it), or what made it unparsable."""
        if "json" not in request.headers.get("content-type", ""):
            return await self._form(request)
        raw = await request.body()
        try:
            return json.loads(raw or b"{}")
        except json.JSONDecodeError as error:
            return InvalidJson(f"invalid character at offset {error.pos} looking for beginning of value")

    async def _login(self, request: Request) -> Response:
        form = await self._form(request)
        cookie, session = self._session(request)
        if self.v3:
            token = request.headers.get("X-CSRF-Token") or str(form.get("_csrf") or "")
            if session is None or not session.csrf or token != session.csrf:
                return bare(403)
        if form.get("_invalid"):
            return envelope(False, "The Input data format is invalid.")
        username, password = str(form.get("username") or ""), str(form.get("password") or "")
        if not username:
            return envelope(False, "Username is required")
        if not password:
            return envelope(False, "Password is required")
        ip = request.client.host if request.client else ""
        code = str(form.get("twoFactorCode") or "")
        if not self.auth.check_password(ip, username, password, code, limiter=self.v3):
            return envelope(False, LOGIN_BAD)
        if session is None:
            cookie = self.auth.new_session(csrf=False)
            session = self.auth.sessions[cookie]
        session.user = username
        response = envelope(True, LOGIN_OK)
        self._set_cookie(response, cookie)
        return response

    def _unauthenticated(self, request: Request) -> Response:
        xhr = request.headers.get("X-Requested-With") == "XMLHttpRequest"
        if self.state.clients_api and xhr:
            return bare(401)
        if self.state.version == V2 and self.legacy_unauth:  # 2.8.3 and older
            if xhr:
                return JSONResponse(
                    {"success": False, "msg": "Your session has expired, please log in again", "obj": None},
                    status_code=401,
                )
            return Response(status_code=307, headers={"Location": self.base})
        return bare(404)

    def _authorize(self, request: Request) -> Response | None:
        header = request.headers.get("Authorization", "")
        scopes = self.auth.token_scopes(header) if self.v3 else None
        if scopes is not None:
            if "admin" not in scopes and request.method != "GET":
                return JSONResponse(
                    {"success": False, "msg": "this API token is not permitted to access this endpoint"},
                    status_code=403,
                )
            return None
        _, session = self._session(request)
        if session is None or not session.user:
            return self._unauthenticated(request)
        if self.v3 and request.method != "GET" and request.headers.get("X-CSRF-Token") != session.csrf:
            return bare(403)
        return None

    # -- API ---------------------------------------------------------------------------------

    async def _api(self, request: Request, route: str) -> Response:
        refused = self._authorize(request)
        if refused is not None:
            return refused
        if self.faults.take("panic_next", route):
            return bare(500)
        body = await self._api_body(request) if request.method == "POST" else {}
        found = dispatch(self.state, self.clients, request.method, route, body)
        if found is None:
            return bare(404)
        context, action = found
        try:
            reply = action()
        except Panic:
            return bare(500)
        except ServiceError as error:
            return envelope(False, f"{error.context or context} ({error})")
        if request.method == "POST":
            if self.faults.take("commit_then_timeout", route):
                # Shutting the sandbox down cancels the hang; that is the answer never arriving.
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.sleep(self.faults.hang_seconds)
                return bare(504)
            if self.faults.take("empty_next", route):
                return Response(status_code=200)
        return envelope(True, reply.msg, reply.obj)
