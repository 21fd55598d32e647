"""How a 3x-ui handler fails: a service error (HTTP 200, `success:false`) or a Go panic (HTTP 500)."""

from __future__ import annotations


class ServiceError(Exception):
    """3x-ui's Go error text; most end in a newline because they come from fmt.Sprintln.

    `context` overrides the route's message prefix: a request the handler could not bind is
    answered with another (often misleading) text than a failure of the service behind it."""

    def __init__(self, message: str, context: str | None = None) -> None:
        super().__init__(message)
        self.context = context


class Panic(Exception):
    """A Go panic inside a handler: HTTP 500 with an empty body."""
