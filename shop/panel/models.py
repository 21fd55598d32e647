"""What we read from and write to a panel: inbounds, the client we want, the client it has."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

VISION = "xtls-rprx-vision"
# The panel's write type for a client (reference §5.1): JSON name -> JSON kind. The panel decodes a
# write into this Go struct, refusing the whole request on a wrong kind, so bodies are built from
# it, never from a record as read (v3.4.2+ records carry `allowedIPs` as a string, the write type a
# list). The v3.4.2 extras are `omitempty` there, and older panels ignore keys they do not know.
WRITE_TYPES: dict[str, str] = {
    "id": "string",
    "security": "string",
    "password": "string",
    "flow": "string",
    "auth": "string",
    "email": "string",
    "limitIp": "int",
    "totalGB": "int",
    "expiryTime": "int",
    "enable": "bool",
    "tgId": "int",
    "subId": "string",
    "comment": "string",
    "reset": "int",
    "reverse": "object",
    "limitHwid": "int",
    "privateKey": "string",
    "publicKey": "string",
    "allowedIPs": "strings",
    "preSharedKey": "string",
    "keepAlive": "int",
    "secret": "string",
    "adTag": "string",
    "group": "string",
}
# Fields the shop owns on its clients. The rest of the write type (limitIp, comment, group, ...) is
# the operator's: the panel replaces the whole object on update, so those are read and copied over.
# totalGB and reset are ours: a panel-side quota or auto-renewal would contradict the paid period.
OWNED = ("id", "email", "subId", "expiryTime", "enable", "flow", "totalGB", "tgId", "reset")


def _as_int(value: Any) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return 0


def _as_strings(value: Any) -> list[str]:
    """A record's `allowedIPs` is the database column (a string); the write type wants a list."""
    if isinstance(value, list):
        return [str(v) for v in value if v is not None]
    if isinstance(value, str) and value.strip().startswith("["):
        try:
            return _as_strings(json.loads(value))
        except json.JSONDecodeError:
            return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return []


def as_write_type(kind: str, value: Any) -> Any:
    """`value` (as some panel version reported it) converted to the write type's JSON kind."""
    if kind == "int":
        return _as_int(value)
    if kind == "bool":
        return value if isinstance(value, bool) else value in (1, "true", "1")
    if kind == "strings":
        return _as_strings(value)
    if kind == "object":
        return value if isinstance(value, dict) else None
    return value if isinstance(value, str) else "" if value is None else str(value)


def _as_object(value: Any) -> dict[str, Any]:
    """v2/v3.0 send settings as JSON strings, v3.1+ as nested objects: accept both."""
    if isinstance(value, dict):
        return value
    if isinstance(value, str) and value.strip():
        parsed = json.loads(value)
        return parsed if isinstance(parsed, dict) else {}
    return {}


@dataclass(frozen=True)
class Inbound:
    id: int
    protocol: str
    port: int
    listen: str
    remark: str
    enable: bool
    settings: dict[str, Any]
    stream: dict[str, Any]

    @classmethod
    def parse(cls, obj: dict[str, Any]) -> Inbound:
        return cls(
            id=int(obj["id"]),
            protocol=str(obj.get("protocol", "")),
            port=int(obj.get("port") or 0),
            listen=str(obj.get("listen") or ""),
            remark=str(obj.get("remark") or ""),
            enable=bool(obj.get("enable", True)),
            settings=_as_object(obj.get("settings")),
            stream=_as_object(obj.get("streamSettings")),
        )

    @property
    def network(self) -> str:
        return str(self.stream.get("network") or "tcp")

    @property
    def security(self) -> str:
        return str(self.stream.get("security") or "none")

    @property
    def vless_encryption(self) -> str:
        return str(self.settings.get("encryption") or "none")

    @property
    def clients(self) -> list[dict[str, Any]]:
        clients = self.settings.get("clients")
        return [c for c in clients if isinstance(c, dict)] if isinstance(clients, list) else []

    def flow(self) -> str:
        """Vision only where Xray accepts it: tcp over tls/reality, or xhttp with VLESS encryption."""
        if self.stream.get("disableFlow") or self.settings.get("disableFlow"):
            return ""
        if self.network == "tcp" and self.security in ("tls", "reality"):
            return VISION
        if self.network == "xhttp" and self.vless_encryption != "none":
            return VISION
        return ""


@dataclass(frozen=True)
class Usage:
    """A client's traffic counters as the panel's traffic job left them (bytes)."""

    up: int
    down: int

    @classmethod
    def of(cls, row: Any) -> Usage | None:
        if not isinstance(row, dict):
            return None
        return cls(as_write_type("int", row.get("up")), as_write_type("int", row.get("down")))


@dataclass(frozen=True)
class ClientSpec:
    """The client the shop wants on one inbound."""

    uuid: str
    email: str
    sub_id: str
    expiry_ms: int
    enable: bool
    flow: str = ""
    tg_id: int | None = None
    comment: str = "vpnshop"

    def owned_fields(self) -> dict[str, Any]:
        return {
            "id": self.uuid,
            "email": self.email,
            "subId": self.sub_id,
            "expiryTime": self.expiry_ms,
            "enable": self.enable,
            "flow": self.flow,
            "totalGB": 0,
            "tgId": self.tg_id or 0,  # int64 on the panel: 0, never "", when unknown
            "reset": 0,
        }

    def new_object(self) -> dict[str, Any]:
        return {**self.owned_fields(), "limitIp": 0, "comment": self.comment}

    def write_body(self, current: dict[str, Any] | None) -> dict[str, Any]:
        """The full client to write: ours, plus the operator's write-type fields from `current`
        (a settings entry or a v3.1+ record) converted to their write types; nothing else."""
        if not current:
            return self.new_object()
        operators = {}
        for name, kind in WRITE_TYPES.items():
            if name in OWNED or current.get(name) is None:
                continue
            value = as_write_type(kind, current[name])
            if value is not None:
                operators[name] = value
        return {**operators, **self.owned_fields()}


@dataclass(frozen=True)
class RemoteClient:
    """A client as the panel reports it; `flow`/`total` are None when the route does not say."""

    uuid: str
    email: str
    sub_id: str
    expiry_ms: int
    enable: bool
    inbound_ids: tuple[int, ...] = ()
    flow: str | None = None
    total: int | None = None
    raw: dict[str, Any] | None = field(default=None, compare=False)

    @classmethod
    def from_settings_entry(cls, entry: dict[str, Any], inbound_id: int) -> RemoteClient:
        return cls(
            uuid=str(entry.get("id") or ""),
            email=str(entry.get("email") or ""),
            sub_id=str(entry.get("subId") or ""),
            expiry_ms=int(entry.get("expiryTime") or 0),
            enable=bool(entry.get("enable", True)),
            inbound_ids=(inbound_id,),
            flow=str(entry.get("flow") or ""),
            total=int(entry.get("totalGB") or 0),
            raw=entry,
        )

    def drift(self, spec: ClientSpec) -> list[str]:
        """Names of the fields where the panel differs from what the shop wants."""
        found = []
        if self.uuid.lower() != spec.uuid.lower():
            found.append("uuid")
        if self.sub_id != spec.sub_id:
            found.append("subId")
        if self.expiry_ms != spec.expiry_ms:
            found.append("expiryTime")
        if self.enable != spec.enable:
            found.append("enable")
        if self.flow is not None and self.flow != spec.flow:
            found.append("flow")
        if self.total is not None and self.total != 0:
            found.append("totalGB")
        return found
