"""sing-box JSON in the schema the client's core understands: 1.10, 1.11 or the current 1.12+.

Schemas differ only around DNS and routing (sing-box migration notes): 1.10 has legacy DNS servers,
inbound `sniff` and the special `dns` outbound; 1.11 replaces those with rule actions; 1.12 types
the DNS servers and adds `default_domain_resolver`. Outbounds are the same in all three.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Sequence
from typing import Any

from shop.subscription.content import PLACEHOLDER_LINK, Entry
from shop.subscription.parsed import parsed_entries
from shop.subscription.vless import VlessLink, parse_vless

SELECT_TAG = "proxy"
AUTO_TAG = "auto"
DIRECT_TAG = "direct"
DNS_OUT_TAG = "dns-out"
PROBE_URL = "https://www.gstatic.com/generate_204"
# Xray fingerprints sing-box's uTLS knows under another name, or not at all ("" = plain Go TLS).
_FINGERPRINTS = {"randomizednoalpn": "randomized", "unsafe": "", "none": ""}


class Schema(enum.StrEnum):
    V1_10 = "1.10"
    V1_11 = "1.11"
    CURRENT = "1.12"  # 1.12 and later (1.13 and 1.14 removed the legacy forms)


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
        # No multi mode in sing-box: Xray's server answers the single-stream call either way.
        return {"transport": {"type": "grpc", "service_name": link.service_name}}
    return None  # xhttp, kcp: sing-box has no such transport


def _tls(link: VlessLink) -> dict[str, Any]:
    tls: dict[str, Any] = {"enabled": True}
    if link.sni:
        tls["server_name"] = link.sni
    if link.client_alpn:
        tls["alpn"] = list(link.client_alpn)
    fingerprint = _FINGERPRINTS.get(link.fingerprint, link.fingerprint)
    if link.security == "reality":
        fingerprint = fingerprint or "chrome"  # Reality needs uTLS
    if fingerprint:
        tls["utls"] = {"enabled": True, "fingerprint": fingerprint}
    if link.security == "reality":
        tls["reality"] = {"enabled": True, "public_key": link.public_key, "short_id": link.short_id}
    return tls


def outbound(name: str, link: VlessLink) -> dict[str, Any] | None:
    if link.encryption != "none":
        return None  # sing-box has no VLESS Encryption: the server would refuse every handshake
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


def _dns(schema: Schema) -> dict[str, Any]:
    if schema is Schema.CURRENT:
        servers: list[dict[str, Any]] = [
            {"type": "https", "tag": "dns-remote", "server": "1.1.1.1", "detour": SELECT_TAG},
            {"type": "local", "tag": "dns-local"},
        ]
    else:
        servers = [
            {"tag": "dns-remote", "address": "https://1.1.1.1/dns-query", "detour": SELECT_TAG},
            {"tag": "dns-local", "address": "local"},
        ]
    return {"servers": servers, "final": "dns-remote"}


def _route(schema: Schema) -> dict[str, Any]:
    private = {"ip_is_private": True, "outbound": DIRECT_TAG}
    if schema is Schema.V1_10:
        rules: list[dict[str, Any]] = [{"protocol": "dns", "outbound": DNS_OUT_TAG}, private]
    else:
        rules = [{"action": "sniff"}, {"protocol": "dns", "action": "hijack-dns"}, private]
    route: dict[str, Any] = {"rules": rules, "final": SELECT_TAG, "auto_detect_interface": True}
    if schema is Schema.CURRENT:
        route["default_domain_resolver"] = "dns-local"
    return route


def _servers(entries: Sequence[Entry], no_server_name: str) -> list[dict[str, Any]]:
    servers = [item for name, link in parsed_entries(entries) if (item := outbound(name, link)) is not None]
    if servers:
        return servers
    # Nothing here runs in sing-box (XHTTP or VLESS Encryption only): a selector may not be empty,
    # and a `direct` stand-in would send traffic outside the VPN unnoticed. The app instead lists
    # one dead entry whose name says what to do, like an expired subscription's placeholder.
    placeholder = parse_vless(PLACEHOLDER_LINK)
    dead = {"server": placeholder.address, "server_port": placeholder.port, "uuid": placeholder.uuid}
    return [{"type": "vless", "tag": no_server_name, **dead}]


def render(entries: Sequence[Entry], schema: Schema = Schema.CURRENT, no_server_name: str = "") -> str:
    servers = _servers(entries, no_server_name or "no server for sing-box")
    tags = [item["tag"] for item in servers]
    tun: dict[str, Any] = {
        "type": "tun",
        "tag": "tun-in",
        "address": ["172.19.0.1/30", "fdfe:dcba:9876::1/126"],
        "auto_route": True,
        "strict_route": True,
        "stack": "mixed",
    }
    special: list[dict[str, Any]] = []
    if schema is Schema.V1_10:
        tun["sniff"] = True
        special.append({"type": "dns", "tag": DNS_OUT_TAG})
    config = {
        "log": {"level": "warn"},
        "dns": _dns(schema),
        "inbounds": [tun],
        "outbounds": [
            {"type": "selector", "tag": SELECT_TAG, "outbounds": [AUTO_TAG, *tags]},
            {"type": "urltest", "tag": AUTO_TAG, "outbounds": tags, "url": PROBE_URL, "interval": "5m"},
            *servers,
            {"type": "direct", "tag": DIRECT_TAG},
            *special,
        ],
        "route": _route(schema),
    }
    return json.dumps(config, ensure_ascii=False, indent=2)
