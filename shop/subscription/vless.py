"""`vless://` share links (3x-ui's shape, `3x-ui-api.md` §8) parsed into a dataclass for the renderers."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import parse_qsl, quote, unquote, urlsplit

NETWORKS = frozenset({"tcp", "ws", "grpc", "xhttp", "httpupgrade", "kcp", "http", "h2"})
SECURITIES = frozenset({"none", "tls", "reality"})


class InvalidLink(ValueError):
    """A cached link that is not a usable `vless://` URI."""


@dataclass(frozen=True)
class VlessLink:
    uuid: str
    address: str
    port: int
    remark: str = ""
    network: str = "tcp"
    security: str = "none"
    encryption: str = "none"
    flow: str = ""
    sni: str = ""
    fingerprint: str = ""
    alpn: tuple[str, ...] = ()
    public_key: str = ""  # reality pbk
    short_id: str = ""  # reality sid
    spider_x: str = ""  # reality spx
    path: str = ""
    host: str = ""
    header_type: str = ""
    service_name: str = ""  # grpc
    authority: str = ""  # grpc
    mode: str = ""  # grpc "multi" / xhttp mode
    extra: dict[str, str] = field(default_factory=dict)  # parameters no renderer maps

    @property
    def tls(self) -> bool:
        return self.security in {"tls", "reality"}

    @property
    def client_alpn(self) -> tuple[str, ...]:
        """The ALPN a client should offer. WebSocket and HTTP upgrade are HTTP/1.1 requests: offered
        3x-ui's default "h2,http/1.1", the server picks h2 and the upgrade dies."""
        if self.alpn and self.network in {"ws", "httpupgrade"}:
            return ("http/1.1",)
        return self.alpn


_KNOWN = {
    "type",
    "security",
    "encryption",
    "flow",
    "sni",
    "fp",
    "alpn",
    "pbk",
    "sid",
    "spx",
    "path",
    "host",
    "headerType",
    "serviceName",
    "authority",
    "mode",
}


def parse_vless(uri: str) -> VlessLink:
    if not uri.startswith("vless://"):
        raise InvalidLink("not a vless:// link")
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError as error:
        raise InvalidLink(f"malformed link: {error}") from None
    user, address = unquote(parts.username or ""), parts.hostname or ""
    try:
        uuid.UUID(user)
    except ValueError:
        raise InvalidLink("the user id is not a UUID") from None
    if not address or port is None:
        raise InvalidLink("address and port are required")
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    network = query.get("type", "tcp") or "tcp"
    security = query.get("security", "none") or "none"
    if network not in NETWORKS:
        raise InvalidLink(f"unknown transport {network!r}")
    if security not in SECURITIES:
        raise InvalidLink(f"unknown security {security!r}")
    if security == "reality" and not query.get("pbk"):
        raise InvalidLink("reality link without a public key (pbk)")
    return VlessLink(
        uuid=user,
        address=address,
        port=port,
        remark=unquote(parts.fragment),
        network=network,
        security=security,
        encryption=query.get("encryption", "none") or "none",
        flow=query.get("flow", ""),
        sni=query.get("sni", ""),
        fingerprint=query.get("fp", ""),
        alpn=tuple(item for item in query.get("alpn", "").split(",") if item),
        public_key=query.get("pbk", ""),
        short_id=query.get("sid", ""),
        spider_x=query.get("spx", ""),
        path=query.get("path", ""),
        host=query.get("host", ""),
        header_type=query.get("headerType", ""),
        service_name=query.get("serviceName", ""),
        authority=query.get("authority", ""),
        mode=query.get("mode", ""),
        extra={key: value for key, value in query.items() if key not in _KNOWN},
    )


def with_remark(uri: str, remark: str) -> str:
    """The same link shown under the shop's name for the host (the fragment is the display name)."""
    return f"{uri.split('#', 1)[0]}#{_fragment(remark)}"


@lru_cache(maxsize=4096)
def _fragment(remark: str) -> str:
    # Few distinct names (one per host) on the hottest path: quote each once.
    return quote(remark, safe="")
