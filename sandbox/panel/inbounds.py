"""`POST inbounds/update/:id`: the whole inbound replaced from a bound model.Inbound."""

from __future__ import annotations

import json
from typing import Any

from sandbox.panel.errors import ServiceError
from sandbox.panel.state import PanelState, now_ms
from sandbox.panel.types import ClassicInboundForm


def _object(value: str | dict[str, Any], field: str) -> dict[str, Any]:
    if isinstance(value, dict):
        return value
    try:
        parsed = json.loads(value or "{}")
    except json.JSONDecodeError as error:
        raise ServiceError(f"invalid character in {field}: {error.msg}") from None
    if not isinstance(parsed, dict):
        raise ServiceError(f"json: cannot unmarshal {field}")
    return parsed


def update_inbound(state: PanelState, inbound_id: int, form: ClassicInboundForm) -> dict[str, Any]:
    """Replace the inbound's fields; traffic rows follow the clients (dropped, added, rewritten)."""
    inbound = state.inbound(inbound_id)
    if any(i.port == form.port and i.id != inbound_id for i in state.inbounds.values()):
        raise ServiceError(f"Port already exists: {form.port}\n")
    settings = _object(form.settings, "settings")
    clients = state.parse_settings(settings)
    stream = _object(form.streamSettings, "streamSettings")
    old = {str(c.get("email") or ""): c for c in inbound.clients}
    stamp = now_ms()
    for client in clients:
        before = old.pop(str(client.get("email") or ""), None)
        client.setdefault("created_at", before.get("created_at", stamp) if before else stamp)
    for email in old:
        state.traffic.pop(email, None)
    inbound.remark, inbound.enable, inbound.listen = form.remark, form.enable, form.listen
    inbound.port = form.port or inbound.port
    inbound.protocol = form.protocol or inbound.protocol
    inbound.settings = {**settings, "clients": clients}
    inbound.stream = stream or inbound.stream
    for client in clients:
        state._write_row(inbound.id, client, old_email=str(client.get("email") or "") or None)
    return state.inbound_json(inbound, True)
