"""Typed panel errors: callers decide on retries by type, never by parsing messages."""

from __future__ import annotations


class PanelError(Exception):
    """Base of every panel failure."""


class PanelUnavailable(PanelError):
    """Connection refused, timeout, HTTP 5xx or an empty/garbled answer: the outcome is unknown."""


class PanelAuthError(PanelError):
    """Bad username, password, two-factor code or API token (or the login limiter is active)."""


class PanelNotFound(PanelError):
    """The inbound or client does not exist on the panel."""


class PanelDuplicate(PanelError):
    """The email is taken by a client that is not ours (another inbound, another UUID)."""


class PanelRejected(PanelError):
    """The panel answered `success:false` for a reason we do not handle more specifically."""


class PanelLastClient(PanelRejected):
    """v2/v3.0 refuse to delete the last client of an inbound."""
