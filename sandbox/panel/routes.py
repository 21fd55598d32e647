"""Route table of the sandbox panel's `/panel/api/*`: which rule answers which path per version."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from sandbox.panel import traffic
from sandbox.panel.clients_api import ClientsApi
from sandbox.panel.errors import ServiceError
from sandbox.panel.inbounds import update_inbound
from sandbox.panel.state import PanelState
from sandbox.panel.status import server_status
from sandbox.panel.types import ClassicInboundForm, InboundFormV31, InboundIds, Struct, TrafficForm, decode

Action = Callable[[], "Reply"]
Handler = Callable[[re.Match[str]], "Reply"]
ADDED = "Inbound client(s) have been added."
UPDATED = "Inbound client has been updated."
DELETED = "Inbound client has been deleted."
INBOUND_UPDATED = "Inbound has been successfully updated."
RESET = "Traffic has been reset."
CLEARED = "The log has been cleared."
WRONG = "Something went wrong"


class Reply:
    def __init__(self, obj: Any = None, msg: str = "") -> None:
        self.obj, self.msg = obj, msg


def _bound(form: type[Struct], body: Any) -> Struct:
    """gin's ShouldBind: a body of the wrong shape fails with the "updated" toast as its context."""
    try:
        return decode(form, body)
    except ServiceError as error:
        raise ServiceError(str(error), context=INBOUND_UPDATED) from None


def _then(msg: str, action: Callable[[], object]) -> Reply:
    action()
    return Reply(None, msg)


def _classic(state: PanelState, body: Any) -> list[tuple[str, str, str, Handler]]:
    form = InboundFormV31 if state.clients_api else ClassicInboundForm
    inbound_routes: list[tuple[str, str, str, Handler]] = [
        (
            "GET",
            r"list",
            "Obtain",
            lambda m: Reply([state.inbound_json(i, True) for i in state.inbounds.values()]),
        ),
        # GetInbound does not preload the traffic rows: clientStats is null here in every version.
        ("GET", r"get/(\d+)", "Obtain", lambda m: Reply(state.inbound_json(state.inbound(int(m[1])), False))),
        (
            "POST",
            r"update/(\d+)",
            "Something went wrong",
            lambda m: Reply(update_inbound(state, int(m[1]), _bound(form, body)), INBOUND_UPDATED),
        ),
    ]
    if state.clients_api:  # client routes moved to /panel/api/clients/*
        return inbound_routes
    return [
        *inbound_routes,
        (
            "GET",
            r"getClientTraffics/(.+)",
            "Error getting traffics.",
            lambda m: Reply(state.client_traffics(m[1])),
        ),
        (
            "GET",
            r"getClientTrafficsById/(.+)",
            "Obtain",
            lambda m: Reply(traffic.traffics_by_uuid(state, m[1])),
        ),
        ("POST", r"addClient", WRONG, lambda m: _add(state, body)),
        ("POST", r"updateClient/(.+)", WRONG, lambda m: _update(state, m[1], body)),
        (
            "POST",
            r"(\d+)/delClient/(.+)",
            WRONG,
            lambda m: _then(DELETED, lambda: state.del_client(int(m[1]), m[2])),
        ),
        (
            "POST",
            r"(\d+)/delClientByEmail/(.+)",
            "Failed to delete client by email",
            lambda m: _then(
                "Client deleted successfully", lambda: state.del_client_by_email(int(m[1]), m[2])
            ),
        ),
        (
            "POST",
            r"(\d+)/resetClientTraffic/(.+)",
            WRONG,
            lambda m: _then(RESET, lambda: traffic.reset_client(state, m[2])),
        ),
        (
            "POST",
            r"resetAllClientTraffics/(-?\d+)",
            WRONG,
            lambda m: _then(RESET, lambda: traffic.reset_inbound_clients(state, int(m[1]))),
        ),
        (
            "POST",
            r"updateClientTraffic/(.+)",
            WRONG,
            lambda m: _then(RESET, lambda: _set_traffic(state, m[1], body)),
        ),
        ("POST", r"onlines", "", lambda m: Reply(list(state.onlines))),
        ("POST", r"lastOnline", "", lambda m: Reply(traffic.last_online(state))),
        ("POST", r"clientIps/(.+)", "", lambda m: Reply(traffic.client_ips(state, m[1]))),
        (
            "POST",
            r"clearClientIps/(.+)",
            "",
            lambda m: _then(CLEARED, lambda: traffic.clear_ips(state, m[1])),
        ),
    ]


def _add(state: PanelState, body: Any) -> Reply:
    form = _bound(ClassicInboundForm, body)
    state.add_clients(form.id, form.settings)
    return Reply(None, ADDED)


def _update(state: PanelState, client_id: str, body: Any) -> Reply:
    form = _bound(ClassicInboundForm, body)
    state.update_client(client_id, form.id, form.settings)
    return Reply(None, UPDATED)


def _set_traffic(state: PanelState, email: str, body: Any) -> None:
    counters = decode(TrafficForm, body)
    row = state.traffic.get(email)
    if row is None:
        raise ServiceError(f"Inbound Not Found For Email: {email}\n")
    row.up, row.down = counters.upload, counters.download


def _clients(api: ClientsApi, body: Any) -> list[tuple[str, str, str, Handler]]:
    state = api.state

    def ids() -> list[int]:
        return decode(InboundIds, body).inboundIds

    return [
        ("GET", r"list", "Obtain", lambda m: Reply(api.list_all())),
        ("GET", r"get/(.+)", "Obtain", lambda m: Reply(api.record(m[1]))),
        ("GET", r"traffic/(.+)", "Obtain", lambda m: Reply(_traffic_or_none(state, m[1]))),
        ("POST", r"add", WRONG, lambda m: _then(ADDED, lambda: api.add(body))),
        ("POST", r"update/(.+)", WRONG, lambda m: _then(UPDATED, lambda: api.update(m[1], body))),
        ("POST", r"del/(.+)", WRONG, lambda m: _then(DELETED, lambda: api.delete(m[1]))),
        ("POST", r"(.+)/attach", WRONG, lambda m: _then(UPDATED, lambda: api.attach(m[1], ids()))),
        ("POST", r"(.+)/detach", WRONG, lambda m: _then(UPDATED, lambda: api.detach(m[1], ids()))),
        (
            "POST",
            r"resetTraffic/(.+)",
            WRONG,
            lambda m: _then(RESET, lambda: traffic.reset_client(state, m[1])),
        ),
        (
            "POST",
            r"updateTraffic/(.+)",
            WRONG,
            lambda m: _then(RESET, lambda: _set_traffic(state, m[1], body)),
        ),
        ("POST", r"ips/(.+)", "", lambda m: Reply(traffic.client_ips(state, m[1]))),
        ("POST", r"clearIps/(.+)", "", lambda m: _then(CLEARED, lambda: traffic.clear_ips(state, m[1]))),
        ("POST", r"onlines", "", lambda m: Reply(list(state.onlines))),
        ("POST", r"lastOnline", "", lambda m: Reply(traffic.last_online(state))),
    ]


def _traffic_or_none(state: PanelState, email: str) -> Any:
    row = state.traffic.get(email)
    return state.traffic_json(row) if row else None


def _match(table: list[tuple[str, str, str, Handler]], method: str, route: str) -> tuple[str, Action] | None:
    for verb, pattern, context, handler in table:
        match = re.fullmatch(pattern, route)
        if match and verb == method:
            return context, lambda h=handler, m=match: h(m)
    return None


def dispatch(
    state: PanelState, api: ClientsApi, method: str, route: str, body: Any
) -> tuple[str, Action] | None:
    """The (error context, action) answering this route, or None for a bare 404."""
    if route == "server/status" and method == "GET":
        return "", lambda: Reply(server_status(state))
    if route.startswith("inbounds/"):
        return _match(_classic(state, body), method, route.removeprefix("inbounds/"))
    if route.startswith("clients/") and state.clients_api:
        return _match(_clients(api, body), method, route.removeprefix("clients/"))
    return None
