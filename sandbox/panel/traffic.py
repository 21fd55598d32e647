"""The panel's traffic job (reference §12.4) and the routes that read or reset its counters.

Xray reports bytes per client; every 10 s (v2) / 5 s (v3) the panel adds them to the client's
traffic row, refreshes `onlines` and `lastOnline`, starts delayed-start expiries on first use and
cuts clients that are depleted or expired. Here a test plays one cycle with `tick(usage=...)`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sandbox.panel.errors import ServiceError
from sandbox.panel.state import V2, PanelState, now_ms

NO_IP_RECORD = "No IP Record"


def tick(
    state: PanelState, usage: Mapping[str, tuple[int, int]] | None = None, at_ms: int | None = None
) -> list[str]:
    """One traffic-job cycle: add `usage` (email -> (up, down) bytes), then cut depleted or expired
    clients; returns the emails cut in this cycle."""
    at = now_ms() if at_ms is None else at_ms
    state.onlines = []
    for email, (up, down) in (usage or {}).items():
        row = state.traffic.get(email)
        if row is None or not (up or down):
            continue
        row.up, row.down, row.last_online = row.up + up, row.down + down, at
        state.onlines.append(email)
        if row.expiry_time < 0:  # "N days after first use" starts now
            row.expiry_time = at - row.expiry_time
            for _, client in _entries(state, email):
                client["expiryTime"] = row.expiry_time
    cut = []
    for row in state.traffic.values():
        depleted = row.total > 0 and row.up + row.down >= row.total
        if row.enable and (depleted or 0 < row.expiry_time <= at):
            row.enable = False
            cut.append(row.email)
            if state.version != V2:  # from 2.9.4 the settings entry is switched off too
                for _, client in _entries(state, row.email):
                    client["enable"] = False
    return cut


def _entries(state: PanelState, email: str) -> list[tuple[Any, dict[str, Any]]]:
    return [(i, c) for i, c in state.all_clients() if str(c.get("email", "")) == email]


def reset_client(state: PanelState, email: str) -> None:
    """`resetClientTraffic`: counters to zero and the row enabled again."""
    row = state.traffic.get(email)
    if row is None:
        raise ServiceError(f"Inbound Not Found For Email: {email}\n")
    row.up = row.down = 0
    row.enable = True


def reset_inbound_clients(state: PanelState, inbound_id: int) -> None:
    """`resetAllClientTraffics/:id`; -1 means every inbound."""
    for row in state.traffic.values():
        if inbound_id == -1 or row.inbound_id == inbound_id:
            row.up = row.down = 0
            row.enable = True


def traffics_by_uuid(state: PanelState, uuid: str) -> list[dict[str, Any]]:
    """`getClientTrafficsById/:uuid`: the rows of the clients with that UUID (possibly none)."""
    emails = [str(c.get("email", "")) for _, c in state.all_clients() if str(c.get("id", "")) == uuid]
    return [state.traffic_json(state.traffic[e]) for e in dict.fromkeys(emails) if e in state.traffic]


def client_ips(state: PanelState, email: str) -> Any:
    return list(state.ips.get(email) or []) or NO_IP_RECORD


def clear_ips(state: PanelState, email: str) -> None:
    state.ips.pop(email, None)


def last_online(state: PanelState) -> dict[str, int]:
    return {row.email: row.last_online for row in state.traffic.values() if row.last_online}
