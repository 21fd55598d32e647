"""The sandbox panel's data and the service rules of the classic client API (v2 and v3.0).

Errors are raised as `ServiceError` (the handler answers `success:false` with HTTP 200) or
`Panic` (HTTP 500, empty body), exactly where 3x-ui raises them, in 3x-ui's order of checks.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

from sandbox.panel.errors import Panic, ServiceError
from sandbox.panel.types import ClassicSettings, decode

# v2 = 2.8.x, v3.0 = 3.0.x, v3.1 = the record shape of v3.1.0 - v3.4.1, v3.4 = v3.4.2 and later
V2, V3_0, V3_1, V3_4 = "v2", "v3.0", "v3.1", "v3.4"
VERSIONS = (V2, V3_0, V3_1, V3_4)
CLIENTS_API = (V3_1, V3_4)  # /panel/api/clients/*, inbound settings as nested objects
CREDENTIAL = {"vless": "id", "vmess": "id", "trojan": "password", "shadowsocks": "email"}


def now_ms() -> int:
    return int(time.time() * 1000)


@dataclass
class SandboxInbound:
    id: int
    protocol: str
    port: int
    remark: str = ""
    listen: str = ""
    enable: bool = True
    settings: dict[str, Any] = field(default_factory=dict)
    stream: dict[str, Any] = field(default_factory=dict)

    @property
    def clients(self) -> list[dict[str, Any]]:
        clients: list[dict[str, Any]] = self.settings.setdefault("clients", [])
        return clients

    def find(self, key: str, value: str) -> dict[str, Any] | None:
        return next((c for c in self.clients if str(c.get(key, "")) == value), None)


@dataclass
class TrafficRow:
    id: int
    inbound_id: int
    email: str
    enable: bool
    expiry_time: int
    total: int
    reset: int = 0
    up: int = 0
    down: int = 0
    last_online: int = 0  # unix ms, set by the traffic job


def reality_stream(server_name: str = "www.microsoft.com") -> dict[str, Any]:
    return {
        "network": "tcp",
        "security": "reality",
        "externalProxy": [],
        "realitySettings": {
            "show": False,
            "xver": 0,
            "target": f"{server_name}:443",
            "serverNames": [server_name, f"www.{server_name.removeprefix('www.')}.cdn"],
            "privateKey": "cIU1O1yC0Sx9Co_Z8E5nWZs0oKtCpM6ZL0XWXdIPzlI",
            "shortIds": ["6ba85179e30d4fc2", "a1", "0f3c"],
            "settings": {
                "publicKey": "Z84J2IelR9ch3k8VtlVhhs5ycBUlXA7wHBWcBrjqnAw",
                "fingerprint": "chrome",
                "serverName": "",
                "spiderX": "/",
            },
        },
        "tcpSettings": {"acceptProxyProtocol": False, "header": {"type": "none"}},
    }


class PanelState:
    def __init__(self, version: str) -> None:
        if version not in VERSIONS:
            raise ValueError(f"version must be one of {VERSIONS}")
        self.version = version
        self.inbounds: dict[int, SandboxInbound] = {}
        self.traffic: dict[str, TrafficRow] = {}
        self.onlines: list[str] = []  # emails with traffic in the last traffic-job cycle
        self.ips: dict[str, list[str]] = {}  # email -> "1.2.3.4 (2025-01-01 12:00:00)" records
        self._next_inbound = 1
        self._next_row = 1

    # -- inbounds ----------------------------------------------------------------------------

    def add_inbound(
        self,
        protocol: str = "vless",
        port: int = 443,
        stream: dict[str, Any] | None = None,
        remark: str = "VLESS-Reality",
        clients: list[dict[str, Any]] | None = None,
    ) -> SandboxInbound:
        if any(i.port == port for i in self.inbounds.values()):
            raise ServiceError(f"Port already exists: {port}\n")
        settings: dict[str, Any] = {"clients": [], "decryption": "none"}
        if protocol == "vless":
            settings["encryption"] = "none"
        inbound = SandboxInbound(
            self._next_inbound, protocol, port, remark, settings=settings, stream=stream or reality_stream()
        )
        self.inbounds[inbound.id] = inbound
        self._next_inbound += 1
        if clients:
            self.add_clients(inbound.id, {"clients": clients})
        return inbound

    def inbound(self, inbound_id: int) -> SandboxInbound:
        found = self.inbounds.get(inbound_id)
        if found is None:
            raise ServiceError("record not found")
        return found

    @property
    def clients_api(self) -> bool:
        return self.version in CLIENTS_API

    def inbound_json(self, inbound: SandboxInbound, with_stats: bool) -> dict[str, Any]:
        nested = self.clients_api
        settings = inbound.settings if nested else json.dumps(inbound.settings, indent=2, sort_keys=True)
        stats = [self.traffic_json(r) for r in self.traffic.values() if r.inbound_id == inbound.id]
        return {
            "id": inbound.id,
            "up": 0,
            "down": 0,
            "total": 0,
            "remark": inbound.remark,
            "enable": inbound.enable,
            "expiryTime": 0,
            "clientStats": stats if with_stats else None,
            "listen": inbound.listen,
            "port": inbound.port,
            "protocol": inbound.protocol,
            "tag": f"inbound-{inbound.port}",
            "settings": settings,
            "streamSettings": inbound.stream if nested else json.dumps(inbound.stream),
            "sniffing": {"enabled": False} if nested else '{"enabled": false}',
        }

    def all_clients(self) -> list[tuple[SandboxInbound, dict[str, Any]]]:
        return [(i, c) for i in self.inbounds.values() for c in i.clients]

    def owner_of(self, email: str) -> SandboxInbound | None:
        row = self.traffic.get(email)
        return self.inbounds.get(row.inbound_id) if row else None

    # -- traffic rows ------------------------------------------------------------------------

    def _write_row(self, inbound_id: int, client: dict[str, Any], old_email: str | None = None) -> None:
        email = str(client.get("email") or "")
        row = self.traffic.pop(old_email, None) if old_email else None
        if not email:
            return
        if row is None:
            row = TrafficRow(self._next_row, inbound_id, email, True, 0, 0)
            self._next_row += 1
        row.email, row.inbound_id = email, inbound_id
        row.enable = bool(client.get("enable", True))
        row.expiry_time = int(client.get("expiryTime") or 0)
        row.total = int(client.get("totalGB") or 0)
        row.reset = int(client.get("reset") or 0)
        self.traffic[email] = row

    def traffic_json(self, row: TrafficRow) -> dict[str, Any]:
        inbound = self.inbounds.get(row.inbound_id)
        client = inbound.find("email", row.email) if inbound else None
        body = {
            "id": row.id,
            "inboundId": row.inbound_id,
            "enable": bool(client.get("enable", True)) if client else row.enable,
            "email": row.email,
            "uuid": str(client.get("id", "")) if client else "",
            "subId": str(client.get("subId", "")) if client else "",
            "up": row.up,
            "down": row.down,
            "expiryTime": row.expiry_time,
            "total": row.total,
            "reset": row.reset,
            "lastOnline": row.last_online,
        }
        if self.version == V2:
            body["allTime"] = row.up + row.down
        return body

    def client_traffics(self, email: str) -> dict[str, Any]:
        row = self.traffic.get(email)
        if row is None:
            raise ServiceError(f"Inbound Not Found For Email: {email}\n")
        return self.traffic_json(row)

    # -- classic client API ------------------------------------------------------------------

    def parse_settings(self, raw: Any) -> list[dict[str, Any]]:
        """The clients of a `settings` JSON string, type-checked as model.Client, kept verbatim."""
        if isinstance(raw, str):
            try:
                raw = json.loads(raw)
            except json.JSONDecodeError as error:
                raise ServiceError(f"invalid character in settings: {error.msg}") from None
        if not isinstance(raw, dict):
            raise ServiceError("json: cannot unmarshal settings")
        if not isinstance(raw.get("clients"), list):
            raise Panic  # 3x-ui dereferences settings["clients"] without checking it
        decode(ClassicSettings, raw)
        return [c for c in raw["clients"] if isinstance(c, dict)]

    def check_duplicates(self, new: list[dict[str, Any]], skip: dict[str, Any] | None = None) -> None:
        seen: dict[str, dict[str, Any]] = {}
        for inbound, existing in self.all_clients():
            if existing is not skip and existing.get("email"):
                seen.setdefault(str(existing["email"]).lower(), {**existing, "_inbound": inbound.id})
        for client in new:
            email = str(client.get("email") or "")
            if not email:
                continue
            other = seen.get(email.lower())
            if other is not None and not self._v30_shared(client, other):
                raise ServiceError(f"Duplicate email: {email}\n")
            seen[email.lower()] = {**client, "_inbound": None}

    def _v30_shared(self, new: dict[str, Any], other: dict[str, Any]) -> bool:
        # v3.0: one email may sit in several inbounds when it carries the same non-empty subId.
        same_sub = bool(new.get("subId")) and new.get("subId") == other.get("subId")
        return self.version == V3_0 and same_sub and other["_inbound"] != new.get("_target")

    def _check_credentials(self, inbound: SandboxInbound, client: dict[str, Any]) -> None:
        key = CREDENTIAL.get(inbound.protocol)
        if key and not str(client.get(key) or ""):
            raise ServiceError("empty client ID\n")
        if self.version != V2 and not str(client.get("email") or ""):
            raise ServiceError("client email is required\n")

    def add_clients(self, inbound_id: int, settings: Any) -> None:
        clients = self.parse_settings(settings)
        self.check_duplicates([{**c, "_target": inbound_id} for c in clients])
        inbound = self.inbound(inbound_id)
        for client in clients:
            self._check_credentials(inbound, client)
        stamp = now_ms()
        for client in clients:
            stored = {**client, "created_at": stamp, "updated_at": stamp}
            inbound.clients.append(stored)
            self._write_row(inbound.id, stored)

    def update_client(self, client_id: str, inbound_id: int, settings: Any) -> None:
        clients = self.parse_settings(settings)
        inbound = self.inbound(inbound_id)
        key = CREDENTIAL.get(inbound.protocol, "id")
        current = inbound.find(key, client_id)
        if current is None or not clients or not str(clients[0].get(key) or ""):
            raise ServiceError("empty client ID\n")
        new = clients[0]
        if str(new.get("email", "")).lower() != str(current.get("email", "")).lower():
            self.check_duplicates([{**new, "_target": inbound_id}], skip=current)
        replaced = {**new, "created_at": current.get("created_at", now_ms()), "updated_at": now_ms()}
        inbound.clients[inbound.clients.index(current)] = replaced
        self._write_row(inbound.id, replaced, old_email=str(current.get("email") or "") or None)

    def del_client(self, inbound_id: int, client_id: str) -> None:
        inbound = self.inbound(inbound_id)
        key = CREDENTIAL.get(inbound.protocol, "id")
        current = inbound.find(key, client_id)
        if current is None and self.version == V2:
            return  # up to 2.9.3 an unknown id is a silent success
        if current is None:
            raise ServiceError(f"Client Not Found In Inbound For ID: {client_id}\n")
        if len(inbound.clients) == 1:
            raise ServiceError("no client remained in Inbound\n")
        self.remove(inbound, current)

    def remove(self, inbound: SandboxInbound, client: dict[str, Any]) -> None:
        inbound.clients.remove(client)
        self.traffic.pop(str(client.get("email") or ""), None)

    def del_client_by_email(self, inbound_id: int, email: str) -> None:
        inbound = self.inbound(inbound_id)
        current = inbound.find("email", email)
        if current is None:
            raise ServiceError(f"client with email {email} not found\n")
        if len(inbound.clients) == 1 and not self.clients_api:
            raise ServiceError("no client remained in Inbound\n")
        self.remove(inbound, current)
