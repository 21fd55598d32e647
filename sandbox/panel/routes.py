"""Route table of the sandbox panel's `/panel/api/*`: which rule answers which path per version."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from sandbox.panel.clients_api import ClientsApi
from sandbox.panel.state import V2, V3_1, PanelState, ServiceError

Action = Callable[[], "Reply"]
ADDED = "Inbound client(s) have been added."
UPDATED = "Inbound client has been updated."
DELETED = "Inbound client has been deleted."
WRONG = "Something went wrong"


class Reply:
    def __init__(self, obj: Any = None, msg: str = "") -> None:
        self.obj, self.msg = obj, msg


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ServiceError("json: cannot unmarshal id") from None


def _status(state: PanelState) -> dict[str, Any]:
    return {
        "cpu": 3.5,
        "mem": {"current": 1024000, "total": 8192000},
        "xray": {"state": "running", "errorMsg": "", "version": "25.9.11"},
        "uptime": 3600,
        "panelVersion": {V2: "2.8.10", "v3.0": "3.0.2"}.get(state.version, "3.1.4"),
    }


def _classic(state: PanelState, method: str, route: str, body: dict[str, Any]) -> tuple[str, Action] | None:
    table: list[tuple[str, str, str, Callable[[re.Match[str]], Reply]]] = [
        (
            "GET",
            r"list",
            "Obtain",
            lambda m: Reply([state.inbound_json(i, True) for i in state.inbounds.values()]),
        ),
        (
            "GET",
            r"get/(\d+)",
            "Obtain",
            lambda m: Reply(state.inbound_json(state.inbound(int(m[1])), state.version != V2)),
        ),
        (
            "GET",
            r"getClientTraffics/(.+)",
            "Error getting traffics.",
            lambda m: Reply(state.client_traffics(m[1])),
        ),
        ("POST", r"addClient", WRONG, lambda m: _add(state, body)),
        ("POST", r"updateClient/(.+)", WRONG, lambda m: _update(state, m[1], body)),
        ("POST", r"(\d+)/delClient/(.+)", WRONG, lambda m: _delete(state, int(m[1]), m[2])),
        (
            "POST",
            r"(\d+)/delClientByEmail/(.+)",
            "Failed to delete client by email",
            lambda m: _delete_by_email(state, int(m[1]), m[2]),
        ),
        ("POST", r"onlines", "", lambda m: Reply([])),
    ]
    if state.version == V3_1:  # client routes moved to /panel/api/clients/*
        table = [row for row in table if row[1] in ("list", r"get/(\d+)")]
    for verb, pattern, context, handler in table:
        match = re.fullmatch(pattern, route)
        if match and verb == method:
            return context, lambda h=handler, m=match: h(m)
    return None


def _add(state: PanelState, body: dict[str, Any]) -> Reply:
    state.add_clients(_int(body.get("id")), body.get("settings"))
    return Reply(None, ADDED)


def _update(state: PanelState, client_id: str, body: dict[str, Any]) -> Reply:
    state.update_client(client_id, _int(body.get("id")), body.get("settings"))
    return Reply(None, UPDATED)


def _delete(state: PanelState, inbound_id: int, client_id: str) -> Reply:
    state.del_client(inbound_id, client_id)
    return Reply(None, DELETED)


def _delete_by_email(state: PanelState, inbound_id: int, email: str) -> Reply:
    state.del_client_by_email(inbound_id, email)
    return Reply(None, "Client deleted successfully")


def _clients(api: ClientsApi, method: str, route: str, body: dict[str, Any]) -> tuple[str, Action] | None:
    def ids() -> list[int]:
        return [_int(i) for i in body.get("inboundIds") or []]

    table: list[tuple[str, str, str, Callable[[re.Match[str]], Reply]]] = [
        ("GET", r"list", "Obtain", lambda m: Reply(api.list_all())),
        ("GET", r"get/(.+)", "Obtain", lambda m: Reply(api.record(m[1]))),
        ("GET", r"traffic/(.+)", "Obtain", lambda m: Reply(_traffic_or_none(api, m[1]))),
        ("POST", r"add", WRONG, lambda m: _then(ADDED, lambda: api.add(body))),
        ("POST", r"update/(.+)", WRONG, lambda m: _then(UPDATED, lambda: api.update(m[1], body))),
        ("POST", r"del/(.+)", WRONG, lambda m: _then(DELETED, lambda: api.delete(m[1]))),
        ("POST", r"(.+)/attach", WRONG, lambda m: _then(UPDATED, lambda: api.attach(m[1], ids()))),
        ("POST", r"(.+)/detach", WRONG, lambda m: _then(UPDATED, lambda: api.detach(m[1], ids()))),
    ]
    for verb, pattern, context, handler in table:
        match = re.fullmatch(pattern, route)
        if match and verb == method:
            return context, lambda h=handler, m=match: h(m)
    return None


def _then(msg: str, action: Callable[[], object]) -> Reply:
    action()
    return Reply(None, msg)


def _traffic_or_none(api: ClientsApi, email: str) -> Any:
    row = api.state.traffic.get(email)
    return api.state.traffic_json(row) if row else None


def dispatch(
    state: PanelState, api: ClientsApi, method: str, route: str, body: dict[str, Any]
) -> tuple[str, Action] | None:
    """The (error context, action) answering this route, or None for a bare 404."""
    if route == "server/status" and method == "GET":
        return "", lambda: Reply(_status(state))
    if route.startswith("inbounds/"):
        return _classic(state, method, route.removeprefix("inbounds/"), body)
    if route.startswith("clients/") and state.version == V3_1:
        return _clients(api, method, route.removeprefix("clients/"), body)
    return None
