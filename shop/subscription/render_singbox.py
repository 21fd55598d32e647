"""sing-box JSON (1.12+ schema: typed DNS servers, rule actions), checked by the real core in tests."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from shop.subscription.content import Entry
from shop.subscription.parsed import parsed_entries
from shop.subscription.vless import VlessLink

SELECT_TAG = "proxy"
AUTO_TAG = "auto"
DIRECT_TAG = "direct"
PROBE_URL = "https://www.gstatic.com/generate_204"


def _transport(link: VlessLink) -> dict[str, Any] | None:
    if link.network == "tcp":
        # Xray's HTTP header obfuscation over raw TCP has no sing-box counterpart.
        return {} if link.header_type != "http" else None
    if link.network == "ws":
        ws: dict[str, Any] = {"type": "ws", "path": link.path or "/"}
        if link.host:
            ws["headers"] = {"Host": link.host}
        return {"transport": ws}
    if link.network == "httpupgrade":
        upgrade: dict[str, Any] = {"type": "httpupgrade", "path": link.path or "/"}
        if link.host:
            upgrade["host"] = link.host
        return {"transport": upgrade}
    if link.network == "grpc":
        return {"transport": {"type": "grpc", "service_name": link.service_name}}
    return None  # xhttp, kcp: sing-box has no such transport


def _tls(link: VlessLink) -> dict[str, Any]:
    tls: dict[str, Any] = {"enabled": True}
    if link.sni:
        tls["server_name"] = link.sni
    if link.alpn:
        tls["alpn"] = list(link.alpn)
    if link.fingerprint or link.security == "reality":
        tls["utls"] = {"enabled": True, "fingerprint": link.fingerprint or "chrome"}
    if link.security == "reality":
        tls["reality"] = {"enabled": True, "public_key": link.public_key, "short_id": link.short_id}
    return tls


def outbound(name: str, link: VlessLink) -> dict[str, Any] | None:
    transport = _transport(link)
    if transport is None:
        return None
    item: dict[str, Any] = {
        "type": "vless",
        "tag": name,
        "server": link.address,
        "server_port": link.port,
        "uuid": link.uuid,
        "packet_encoding": "xudp",
        **transport,
    }
    if link.flow:
        item["flow"] = link.flow
    if link.tls:
        item["tls"] = _tls(link)
    return item


def render(entries: Sequence[Entry]) -> str:
    servers = [item for name, link in parsed_entries(entries) if (item := outbound(name, link)) is not None]
    tags = [item["tag"] for item in servers]
    config = {
        "log": {"level": "warn"},
        "dns": {
            "servers": [
                {"type": "https", "tag": "dns-remote", "server": "1.1.1.1", "detour": SELECT_TAG},
                {"type": "local", "tag": "dns-local"},
            ],
            "final": "dns-remote",
        },
        "inbounds": [
            {
                "type": "tun",
                "tag": "tun-in",
                "address": ["172.19.0.1/30", "fdfe:dcba:9876::1/126"],
                "auto_route": True,
                "strict_route": True,
                "stack": "mixed",
            }
        ],
        "outbounds": [
            {"type": "selector", "tag": SELECT_TAG, "outbounds": [AUTO_TAG, *tags]},
            {"type": "urltest", "tag": AUTO_TAG, "outbounds": tags, "url": PROBE_URL, "interval": "5m"},
            *servers,
            {"type": "direct", "tag": DIRECT_TAG},
        ],
        "route": {
            "rules": [
                {"action": "sniff"},
                {"protocol": "dns", "action": "hijack-dns"},
                {"ip_is_private": True, "outbound": DIRECT_TAG},
            ],
            "final": SELECT_TAG,
            "auto_detect_interface": True,
            "default_domain_resolver": "dns-local",
        },
    }
    return json.dumps(config, ensure_ascii=False, indent=2)
