"""The sandbox MTG panel's HTTP surface, as the shop calls it (seed-system.md §5.6):

POST /api/login {username, password} -> {token, expires_in}; every other call carries `x-auth-token`
(missing, unknown or expired: 401). GET /api/nodes, GET /api/nodes/best, POST /api/nodes/{node}/users
{name, expires_at}, POST /api/nodes/{node}/users/{name}/renew {days}, POST .../{name}/start|stop,
DELETE .../{name}, GET /api/users/{name}. Errors are JSON `{"error": "..."}` with a 4xx/5xx status.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import secrets
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from sandbox.mtg.state import MtgRefusal, MtgState
from sandbox.panel.faults import Faults

USER_ROUTE = re.compile(r"^/api/nodes/([^/]+)/users/([^/]+)(?:/(renew|start|stop))?$")
CREATE_ROUTE = re.compile(r"^/api/nodes/([^/]+)/users$")
GET_USER_ROUTE = re.compile(r"^/api/users/([^/]+)$")


def error(status: int, message: str) -> Response:
    return JSONResponse({"error": message}, status_code=status)


class MtgApp:
    def __init__(self, state: MtgState, faults: Faults, username: str, password: str, token_ttl: int) -> None:
        self.state, self.faults = state, faults
        self.username, self.password = username, password
        self.token_ttl = token_ttl
        self.tokens: dict[str, datetime] = {}  # token -> when it stops working
        self.calls: Counter[str] = Counter()  # "METHOD path" -> count
        self.logins = 0

    def expire_tokens(self) -> None:
        self.tokens.clear()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        response = await self.handle(Request(scope, receive))
        await response(scope, receive, send)

    async def _body(self, request: Request) -> dict[str, Any]:
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError:
            raise MtgRefusal(400, "body must be JSON") from None
        if not isinstance(body, dict):
            raise MtgRefusal(400, "body must be a JSON object")
        return body

    async def handle(self, request: Request) -> Response:
        path, method = request.url.path, request.method
        self.calls[f"{method} {path}"] += 1
        if self.faults.delay:
            await asyncio.sleep(self.faults.delay)
        if self.faults.take("panic_next", path):
            return Response(status_code=500)
        try:
            if path == "/api/login" and method == "POST":
                return self._login(await self._body(request))
            if not self._authorised(request):
                return error(401, "unauthorized")
            action = await self._route(method, path, request)
            if action is None:
                return error(404, "not found")
            reply = action()
        except MtgRefusal as refused:
            return error(refused.status, refused.message)
        if method != "GET" and self.faults.take("commit_then_timeout", path):
            # Applied, and the answer never comes (shutting the sandbox down cancels the hang).
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.sleep(self.faults.hang_seconds)
            return Response(status_code=504)
        return JSONResponse(reply, status_code=201 if method == "POST" and path.endswith("/users") else 200)

    def _login(self, body: dict[str, Any]) -> Response:
        if body.get("username") != self.username or body.get("password") != self.password:
            return error(401, "invalid credentials")
        self.logins += 1
        token = secrets.token_urlsafe(24)
        self.tokens[token] = self.state.now() + timedelta(seconds=self.token_ttl)
        return JSONResponse({"token": token, "expires_in": self.token_ttl})

    def _authorised(self, request: Request) -> bool:
        until = self.tokens.get(request.headers.get("x-auth-token", ""))
        return until is not None and until > self.state.now()

    async def _route(self, method: str, path: str, request: Request) -> Callable[[], Any] | None:
        state = self.state
        if method == "GET" and path == "/api/nodes":
            return lambda: [state.node_json(node) for node in state.nodes.values()]
        if method == "GET" and path == "/api/nodes/best":
            return lambda: state.node_json(state.best())
        if (user := GET_USER_ROUTE.match(path)) and method == "GET":
            name = user[1]
            return lambda: state.user_json(state.user(name))
        if (create := CREATE_ROUTE.match(path)) and method == "POST":
            node_id, body = create[1], await self._body(request)
            return lambda: state.user_json(state.create(node_id, body))
        found = USER_ROUTE.match(path)
        if found is None:
            return None
        node, name, verb = found[1], found[2], found[3]
        if method == "DELETE" and verb is None:
            return lambda: state.delete(node, name)
        if method != "POST" or verb is None:
            return None
        if verb == "renew":
            body = await self._body(request)
            return lambda: state.user_json(state.renew(node, name, body))
        return lambda: state.user_json(state.switch(node, name, verb == "start"))
