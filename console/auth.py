"""Who is asking: the session cookie, the role a route needs, and the CSRF token on every POST."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable

from fastapi import Request

from shop.operators.audit import Actor
from shop.operators.roles import Role, allows
from shop.operators.signin import Operator, SigninRefused, Signins

COOKIE = "vpnshop_console"
LANG_COOKIE = "vpnshop_console_lang"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


class NotSignedIn(Exception):
    """No valid session: pages send the operator to the sign-in page."""


class NotFound(Exception):
    """What the page names does not exist (any more): the console's 404 page."""


class Forbidden(Exception):
    """Signed in, but the role may not do this, or the CSRF token is missing or wrong."""

    def __init__(self, operator: Operator, reason: str) -> None:
        super().__init__(reason)
        self.operator = operator
        self.reason = reason


def signins(request: Request) -> Signins:
    found: Signins = request.app.state.console_signins
    return found


async def _csrf_given(request: Request) -> str:
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        value = (await request.form()).get(CSRF_FIELD)
        return value if isinstance(value, str) else ""
    return ""


def require_role(needed: Role) -> Callable[[Request], Awaitable[Operator]]:
    """The route's dependency: a signed-in operator whose role allows `needed`; on POST and other
    state-changing methods also a CSRF token matching the session."""

    async def dependency(request: Request) -> Operator:
        cookie = request.cookies.get(COOKIE)
        if not cookie:
            raise NotSignedIn
        try:
            operator = await signins(request).operator(cookie)
        except SigninRefused:
            raise NotSignedIn from None
        if not allows(operator.role, needed):
            raise Forbidden(operator, "role")
        if request.method not in SAFE_METHODS:
            given = await _csrf_given(request)
            if not hmac.compare_digest(given.encode(), operator.csrf_token.encode()):
                raise Forbidden(operator, "csrf")
        return operator

    return dependency


def actor(operator: Operator) -> Actor:
    return Actor(operator.id, "console")
