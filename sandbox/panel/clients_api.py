"""The v3.1+ client API: one identity per email, attached to any number of inbounds."""

from __future__ import annotations

import re
import uuid
from typing import Any

from sandbox.panel.errors import ServiceError
from sandbox.panel.state import V3_4, PanelState, SandboxInbound, now_ms
from sandbox.panel.types import AddClientsV31, AddClientsV34, ClientV31, ClientV34, decode

_BAD = re.compile(r"[/\\\s\x00-\x1f]")
# v3.4.2+ records carry the WireGuard / mtproto columns; allowedIPs is a string column there.
_V34_COLUMNS = {
    "privateKey": "",
    "publicKey": "",
    "preSharedKey": "",
    "keepAlive": 0,
    "secret": "",
    "adTag": "",
    "group": "",
}


class ClientsApi:
    def __init__(self, state: PanelState) -> None:
        self.state = state

    def _attached(self, email: str) -> list[tuple[SandboxInbound, dict[str, Any]]]:
        return [(i, c) for i, c in self.state.all_clients() if str(c.get("email", "")) == email]

    def record(self, email: str) -> dict[str, Any]:
        attached = self._attached(email)
        if not attached:
            raise ServiceError("record not found")
        client = attached[0][1]
        row = self.state.traffic.get(email)
        # The read type is the database row, not the write type (reference §5.1).
        body = {k: v for k, v in client.items() if k not in ("created_at", "updated_at", "allowedIPs")}
        if self.state.version == V3_4:
            body = {**_V34_COLUMNS, **body, "allowedIPs": ",".join(client.get("allowedIPs") or [])}
        else:
            body = {k: v for k, v in body.items() if k not in _V34_COLUMNS}
        body.update(
            id=row.id if row else 0,
            uuid=str(client.get("id", "")),
            createdAt=client.get("created_at", 0),
            updatedAt=client.get("updated_at", 0),
        )
        return {
            "client": body,
            "inboundIds": [i.id for i, _ in attached],
            "externalLinks": [],
            "usedTraffic": 0,
        }

    def list_all(self) -> list[dict[str, Any]]:
        emails = dict.fromkeys(str(c.get("email", "")) for _, c in self.state.all_clients())
        out = []
        for email in emails:
            found = self.record(email)
            row = self.state.traffic.get(email)
            out.append(
                {
                    **found["client"],
                    "inboundIds": found["inboundIds"],
                    "traffic": self.state.traffic_json(row) if row else None,
                }
            )
        return out

    def _client_type(self) -> type[ClientV31]:
        return ClientV34 if self.state.version == V3_4 else ClientV31

    def add(self, body: Any) -> None:
        payload = decode(AddClientsV34 if self.state.version == V3_4 else AddClientsV31, body)
        client, inbound_ids = payload.client.to_json(), payload.inboundIds
        email, sub_id = payload.client.email, payload.client.subId
        if not email:
            raise ServiceError("client email is required\n")
        if not inbound_ids:
            raise ServiceError("at least one inbound is required\n")
        for name, value in (("email", email), ("subId", sub_id)):
            if _BAD.search(value):
                raise ServiceError(f"client {name} contains an invalid character: {value!r}\n")
        inbounds = [self.state.inbound(int(i)) for i in inbound_ids]
        existing = self._existing(email)
        if existing is not None:
            if not sub_id or existing.get("subId") != sub_id:
                raise ServiceError(f"email already in use: {email}\n")
            client = {k: v for k, v in existing.items() if k not in ("created_at", "updated_at")}
        else:
            self._check_sub_id(sub_id, email)
            if not client.get("id"):
                client["id"] = str(uuid.uuid4())
            client["subId"] = sub_id or str(uuid.uuid4())
            client["enable"] = True  # add always creates enabled clients
        attached = {i.id for i, _ in self._attached(email)}
        for inbound in inbounds:
            if inbound.id not in attached:
                self._attach_one(inbound, client)

    def _existing(self, email: str) -> dict[str, Any] | None:
        for _, client in self.state.all_clients():
            if str(client.get("email", "")).lower() == email.lower():
                return client
        return None

    def _check_sub_id(self, sub_id: str, email: str) -> None:
        for _, client in self.state.all_clients():
            if sub_id and client.get("subId") == sub_id and client.get("email") != email:
                raise ServiceError(f"subId already in use: {sub_id}\n")

    def _attach_one(self, inbound: SandboxInbound, client: dict[str, Any]) -> None:
        stored = dict(client)
        if stored.get("flow") and not (
            inbound.stream.get("network", "tcp") == "tcp"
            and inbound.stream.get("security") in ("tls", "reality")
        ):
            stored["flow"] = ""  # Vision cannot ride this transport
        stamp = now_ms()
        stored.setdefault("created_at", stamp)
        stored["updated_at"] = stamp
        inbound.clients.append(stored)
        self.state._write_row(inbound.id, stored)

    def update(self, email: str, body: Any) -> None:
        typed = decode(self._client_type(), body)  # the body is bound before anything is looked up
        attached = self._attached(email)
        if not attached:
            raise ServiceError("record not found")
        new = typed.to_json()  # every field the body left out is now its zero value
        new.pop("created_at", None)
        new_email = typed.email or email
        new["email"] = new_email
        if new_email.lower() != email.lower() and self._existing(new_email) is not None:
            raise ServiceError(f"email already in use: {new_email}\n")
        self._check_sub_id(str(new.get("subId") or ""), email)
        for inbound, current in attached:
            replaced = {**new, "created_at": current.get("created_at"), "updated_at": now_ms()}
            inbound.clients[inbound.clients.index(current)] = replaced
            self.state._write_row(inbound.id, replaced, old_email=email)

    def delete(self, email: str) -> None:
        attached = self._attached(email)
        if not attached:
            raise ServiceError("record not found")
        for inbound, client in attached:
            self.state.remove(inbound, client)

    def attach(self, email: str, inbound_ids: list[int]) -> None:
        attached = self._attached(email)
        if not attached:
            raise ServiceError("record not found")
        have = {i.id for i, _ in attached}
        for inbound_id in inbound_ids:
            if inbound_id not in have:
                self._attach_one(self.state.inbound(inbound_id), attached[0][1])

    def detach(self, email: str, inbound_ids: list[int]) -> None:
        for inbound, client in self._attached(email):
            if inbound.id in inbound_ids:
                self.state.remove(inbound, client)
        for inbound, client in self._attached(email)[:1]:
            self.state._write_row(inbound.id, client)  # the stats row follows the remaining inbound
