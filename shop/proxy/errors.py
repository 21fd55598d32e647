"""Typed MTG panel errors: callers decide on retries by type, never by parsing messages."""

from __future__ import annotations


class MtgError(Exception):
    """Base of every MTG panel failure."""


class MtgUnavailable(MtgError):
    """Connection refused, timeout, HTTP 5xx or a garbled answer: the outcome is unknown."""


class MtgAuthError(MtgError):
    """The panel refused the username or password."""


class MtgNotFound(MtgError):
    """The node or the proxy user does not exist on the panel."""


class MtgConflict(MtgError):
    """A proxy user of that name exists already (on some node of the panel)."""


class MtgRejected(MtgError):
    """The panel refused the request (HTTP 400 and the like) for another reason."""
