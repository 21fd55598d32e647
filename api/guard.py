"""What every request and answer goes through, before any route: a body cap per route, a body read
timeout, and the headers every answer carries.

A body larger than its route allows is refused with 413 before a byte of it is read (by its
Content-Length) or as soon as the running count passes the cap (chunked uploads), so an
unauthenticated client cannot make the API hold megabytes in memory before the signature check.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

KB = 1024
# Providers' notifications are a few KB; Telegram updates stay well under 100 KB.
WEBHOOK_BODY_LIMIT = 256 * KB
# /sub, /import and /healthz take no body at all: anything is a mistake or an attack.
DEFAULT_BODY_LIMIT = 16 * KB
# Console forms: the owner's texts in two languages and an inline logo (shop.storefront, 64 KB).
CONSOLE_BODY_LIMIT = 512 * KB
BODY_LIMITS: tuple[tuple[str, int], ...] = (
    ("/webhooks/", WEBHOOK_BODY_LIMIT),
    ("/telegram/", WEBHOOK_BODY_LIMIT),
    ("/console/", CONSOLE_BODY_LIMIT),
)
TEXT = b"text/plain; charset=utf-8"
HTML_FRAME_POLICY = b"frame-ancestors 'none'"


def body_limit(path: str) -> int:
    return next((limit for prefix, limit in BODY_LIMITS if path.startswith(prefix)), DEFAULT_BODY_LIMIT)


class _Refused(Exception):
    """Raised into the route that is reading the body; the guard answers in its place."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class GuardLimits:
    body_read_seconds: float = 10.0  # between two chunks of a body: a slow sender is dropped


def _declared_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return -1
    return None


def _with_safe_headers(message: Message) -> Message:
    headers = [(name, value) for name, value in message.get("headers", [])]
    names = {name.lower() for name, _ in headers}
    if b"content-type" not in names:
        headers.append((b"content-type", TEXT))
    if b"x-content-type-options" not in names:
        headers.append((b"x-content-type-options", b"nosniff"))
    content_type = next(value for name, value in headers if name.lower() == b"content-type")
    if content_type.startswith(b"text/html"):
        policy = next((value for name, value in headers if name.lower() == b"content-security-policy"), None)
        if policy is None:
            headers.append((b"content-security-policy", HTML_FRAME_POLICY))
        elif b"frame-ancestors" not in policy:
            headers = [(n, v) for n, v in headers if n.lower() != b"content-security-policy"]
            headers.append((b"content-security-policy", policy + b"; " + HTML_FRAME_POLICY))
        if b"x-frame-options" not in names:
            headers.append((b"x-frame-options", b"DENY"))
    return {**message, "headers": headers}


async def _answer(send: Send, status: int, reason: str) -> None:
    body = reason.encode() + b"\n"
    headers = [
        (b"content-type", TEXT),
        (b"content-length", str(len(body)).encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class Guard:
    def __init__(self, app: ASGIApp, limits: GuardLimits | None = None) -> None:
        self.app = app
        self.limits = limits or GuardLimits()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = body_limit(scope["path"])
        declared = _declared_length(scope)
        if declared is not None and declared < 0:
            await _answer(send, 400, "malformed Content-Length")
            return
        if declared is not None and declared > limit:
            await _answer(send, 413, f"request body too large: this address takes at most {limit} bytes")
            return
        received = 0
        started = False

        body_done = False

        async def counted_receive() -> Message:
            nonlocal received, body_done
            if body_done:  # what follows is a wait for the disconnect, as long as the answer takes
                return await receive()
            try:
                async with asyncio.timeout(self.limits.body_read_seconds):
                    message = await receive()
            except TimeoutError:
                raise _Refused(408, "request body not received in time") from None
            if message["type"] == "http.request":
                body_done = not message.get("more_body", False)
                received += len(message.get("body", b""))
                if received > limit:
                    raise _Refused(413, f"request body too large: this address takes at most {limit} bytes")
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message = _with_safe_headers(message)
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except _Refused as refused:
            if started:
                raise
            await _answer(send, refused.status, refused.reason)
