"""Clash / mihomo YAML (`proxies`, `proxy-groups`, `rules`), per the mihomo proxy and transport docs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import yaml

from shop.subscription.content import Entry
from shop.subscription.parsed import parsed_entries
from shop.subscription.vless import VlessLink

SELECT_GROUP = "PROXY"
AUTO_GROUP = "AUTO"
PROBE_URL = "https://www.gstatic.com/generate_204"


def _transport(link: VlessLink) -> dict[str, Any] | None:
    if link.network == "tcp" and link.header_type != "http":
        return {"network": "tcp"}
    if link.network == "tcp":
        return {
            "network": "http",
            "http-opts": {"path": [link.path or "/"], "headers": {"Host": [link.host]} if link.host else {}},
        }
    if link.network in {"ws", "httpupgrade"}:
        opts: dict[str, Any] = {"path": link.path or "/"}
        if link.host:
            opts["headers"] = {"Host": link.host}
        if link.network == "httpupgrade":
            opts["v2ray-http-upgrade"] = True
        return {"network": "ws", "ws-opts": opts}
    if link.network == "grpc":
        return {"network": "grpc", "grpc-opts": {"grpc-service-name": link.service_name}}
    if link.network == "xhttp":
        xhttp: dict[str, Any] = {"path": link.path or "/"}
        if link.host:
            xhttp["host"] = link.host
        if link.mode and link.mode != "auto":
            xhttp["mode"] = link.mode
        return {"network": "xhttp", "xhttp-opts": xhttp}
    return None  # kcp and the legacy h2/http transports: mihomo has no VLESS client for them


# Xray fingerprints under mihomo's name, or none ("" = Go's own TLS hello).
_FINGERPRINTS = {"randomized": "random", "randomizednoalpn": "random", "unsafe": "", "none": ""}


def _tls(link: VlessLink) -> dict[str, Any]:
    item: dict[str, Any] = {}
    if link.sni:
        item["servername"] = link.sni
    if link.client_alpn:
        item["alpn"] = list(link.client_alpn)
    fingerprint = _FINGERPRINTS.get(link.fingerprint, link.fingerprint or "chrome")
    if fingerprint or link.security == "reality":
        item["client-fingerprint"] = fingerprint or "chrome"
    if link.security == "reality":
        item["reality-opts"] = {"public-key": link.public_key, "short-id": link.short_id}
    return item


def proxy(name: str, link: VlessLink) -> dict[str, Any] | None:
    transport = _transport(link)
    if transport is None:
        return None
    item: dict[str, Any] = {
        "name": name,
        "type": "vless",
        "server": link.address,
        "port": link.port,
        "uuid": link.uuid,
        "udp": True,
        "tls": link.tls,
        **transport,
    }
    if link.encryption != "none":
        item["encryption"] = link.encryption  # VLESS Encryption: the client half of the inbound's key
    if link.flow:
        item["flow"] = link.flow
    if link.tls:
        item.update(_tls(link))
    return item


def render(entries: Sequence[Entry]) -> str:
    proxies = [item for name, link in parsed_entries(entries) if (item := proxy(name, link)) is not None]
    # A group may not be empty; with nothing to offer, traffic is refused rather than sent direct.
    names = [item["name"] for item in proxies] or ["REJECT"]
    config = {
        "mixed-port": 7890,
        "allow-lan": False,
        "mode": "rule",
        "log-level": "warning",
        "proxies": proxies,
        "proxy-groups": [
            {"name": SELECT_GROUP, "type": "select", "proxies": [AUTO_GROUP, *names]},
            {"name": AUTO_GROUP, "type": "url-test", "proxies": names, "url": PROBE_URL, "interval": 300},
        ],
        "rules": ["IP-CIDR,127.0.0.0/8,DIRECT,no-resolve", f"MATCH,{SELECT_GROUP}"],
    }
    return yaml.safe_dump(config, allow_unicode=True, sort_keys=False)
