"""Xray JSON: one full client config per server (a single object for one, an array for several)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from shop.subscription.content import Entry
from shop.subscription.parsed import parsed_entries
from shop.subscription.vless import VlessLink


def _network_settings(link: VlessLink) -> dict[str, Any]:
    if link.network == "tcp" and link.header_type == "http":
        request = {"path": [link.path or "/"], "headers": {"Host": [link.host]} if link.host else {}}
        return {"tcpSettings": {"header": {"type": "http", "request": request}}}
    if link.network in {"ws", "httpupgrade", "xhttp"}:
        settings: dict[str, Any] = {"path": link.path or "/", "host": link.host}
        if link.network == "xhttp" and link.mode:
            settings["mode"] = link.mode
        return {f"{link.network}Settings": settings}
    if link.network == "grpc":
        grpc = {
            "serviceName": link.service_name,
            "authority": link.authority,
            "multiMode": link.mode == "multi",
        }
        return {"grpcSettings": grpc}
    if link.network == "kcp":
        return {
            "kcpSettings": {
                "header": {"type": link.header_type or "none"},
                "seed": link.extra.get("seed", ""),
            }
        }
    return {}


def _security_settings(link: VlessLink) -> dict[str, Any]:
    if link.security == "reality":
        reality = {
            "serverName": link.sni,
            "fingerprint": link.fingerprint or "chrome",
            "publicKey": link.public_key,
            "shortId": link.short_id,
            "spiderX": link.spider_x,
        }
        return {"realitySettings": reality}
    if link.security == "tls":
        tls: dict[str, Any] = {"serverName": link.sni}
        if link.fingerprint:
            tls["fingerprint"] = link.fingerprint
        if link.client_alpn:
            tls["alpn"] = list(link.client_alpn)
        return {"tlsSettings": tls}
    return {}


def stream_settings(link: VlessLink) -> dict[str, Any]:
    # "tcp" rather than Xray 24.9's alias "raw": older cores in the apps know only "tcp".
    return {
        "network": link.network,
        "security": link.security,
        **_network_settings(link),
        **_security_settings(link),
    }


def config(name: str, link: VlessLink) -> dict[str, Any]:
    user: dict[str, Any] = {"id": link.uuid, "encryption": link.encryption}
    if link.flow:
        user["flow"] = link.flow
    return {
        "remarks": name,
        "log": {"loglevel": "warning"},
        "dns": {"servers": ["1.1.1.1", "8.8.8.8"]},
        "inbounds": [
            {
                "tag": "socks",
                "listen": "127.0.0.1",
                "port": 10808,
                "protocol": "socks",
                "settings": {"udp": True},
                "sniffing": {"enabled": True, "destOverride": ["http", "tls", "quic"]},
            },
            {"tag": "http", "listen": "127.0.0.1", "port": 10809, "protocol": "http"},
        ],
        "outbounds": [
            {
                "tag": "proxy",
                "protocol": "vless",
                "settings": {"vnext": [{"address": link.address, "port": link.port, "users": [user]}]},
                "streamSettings": stream_settings(link),
            },
            {"tag": "direct", "protocol": "freedom"},
            {"tag": "block", "protocol": "blackhole"},
        ],
        "routing": {
            "domainStrategy": "AsIs",
            "rules": [{"type": "field", "ip": ["geoip:private"], "outboundTag": "direct"}],
        },
    }


def render(entries: Sequence[Entry]) -> str:
    configs = [config(name, link) for name, link in parsed_entries(entries)]
    body: object = configs[0] if len(configs) == 1 else configs
    return json.dumps(body, ensure_ascii=False, indent=2)
