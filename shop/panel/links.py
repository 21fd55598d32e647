"""`vless://` share links built by the shop from the inbound and the client.

Unlike 3x-ui's own links, every "random" pick (Reality SNI, short id, spiderX) is derived from the
subscription's subId, so one subscription always gets byte-identical links.
"""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import quote, quote_plus, urlsplit

from shop.panel.models import Inbound

NETWORKS = ("tcp", "ws", "grpc", "httpupgrade", "xhttp")
SECURITIES = ("reality", "tls", "none")
# Xray refuses to start an inbound with REALITY over any other transport (ws, httpupgrade, ...).
REALITY_NETWORKS = ("tcp", "grpc", "xhttp")


class UnsupportedInbound(ValueError):
    pass


def _pick(options: list[Any], seed: str, label: str) -> str:
    values = [str(v) for v in options if str(v)]
    if not values:
        return ""
    digest = hashlib.sha256(f"{label}|{seed}".encode()).digest()
    return values[int.from_bytes(digest[:4], "big") % len(values)]


def _network_params(inbound: Inbound) -> dict[str, str]:
    stream, network = inbound.stream, inbound.network
    if network == "tcp":
        header = (stream.get("tcpSettings") or {}).get("header") or {}
        if header.get("type") != "http":
            return {}
        request = header.get("request") or {}
        paths = request.get("path") or ["/"]
        hosts = (request.get("headers") or {}).get("Host") or [""]
        return {"headerType": "http", "path": str(paths[0]), "host": str(hosts[0])}
    if network in ("ws", "httpupgrade"):
        settings = stream.get(f"{network}Settings") or {}
        host = settings.get("host") or (settings.get("headers") or {}).get("Host") or ""
        return {"path": str(settings.get("path") or "/"), "host": str(host)}
    if network == "grpc":
        settings = stream.get("grpcSettings") or {}
        params = {
            "serviceName": str(settings.get("serviceName") or ""),
            "authority": str(settings.get("authority") or ""),
        }
        if settings.get("multiMode"):
            params["mode"] = "multi"
        return params
    settings = stream.get("xhttpSettings") or {}  # xhttp
    return {
        "path": str(settings.get("path") or "/"),
        "host": str(settings.get("host") or ""),
        "mode": str(settings.get("mode") or "auto"),
    }


def _security_params(inbound: Inbound, seed: str) -> dict[str, str]:
    security = inbound.security
    if security == "tls":
        tls = inbound.stream.get("tlsSettings") or {}
        params = {"security": "tls", "sni": str(tls.get("serverName") or "")}
        fingerprint = (tls.get("settings") or {}).get("fingerprint") or ""
        if fingerprint:
            params["fp"] = str(fingerprint)
        if tls.get("alpn"):
            params["alpn"] = ",".join(str(a) for a in tls["alpn"])
        return params
    if security == "reality":
        reality = inbound.stream.get("realitySettings") or {}
        settings = reality.get("settings") or {}
        spider = str(settings.get("spiderX") or "/")
        params = {
            "security": "reality",
            "pbk": str(settings.get("publicKey") or ""),
            "sni": _pick(reality.get("serverNames") or [], seed, "sni"),
            "sid": _pick(reality.get("shortIds") or [], seed, "sid"),
            "spx": "/" + hashlib.sha256(f"{spider}|{seed}".encode()).hexdigest()[:15],
            "fp": str(settings.get("fingerprint") or "chrome"),
        }
        if settings.get("mldsa65Verify"):
            params["pqv"] = str(settings["mldsa65Verify"])
        return params
    return {"security": "none"}


def check_supported(inbound: Inbound) -> None:
    if inbound.protocol != "vless":
        raise UnsupportedInbound(f"inbound {inbound.id} is {inbound.protocol or 'unknown'}, not VLESS")
    if inbound.network not in NETWORKS:
        raise UnsupportedInbound(
            f"inbound {inbound.id} uses {inbound.network}; supported: {', '.join(NETWORKS)}"
        )
    if inbound.security not in SECURITIES:
        raise UnsupportedInbound(f"inbound {inbound.id} uses security {inbound.security}")
    if inbound.security == "reality" and inbound.network not in REALITY_NETWORKS:
        raise UnsupportedInbound(
            f"inbound {inbound.id} uses REALITY over {inbound.network}, which Xray cannot run; "
            f"REALITY works over {', '.join(REALITY_NETWORKS)}"
        )


def panel_hostname(panel_url: str) -> str:
    return urlsplit(panel_url).hostname or ""


def vless_link(inbound: Inbound, client_uuid: str, address: str, remark: str, seed: str) -> str:
    """The share link; `seed` (the subId) makes the Reality picks stable per subscription."""
    check_supported(inbound)
    params = {"type": inbound.network, "encryption": inbound.vless_encryption}
    params.update(_network_params(inbound))
    params.update(_security_params(inbound, seed))
    flow = inbound.flow()
    if flow:
        params["flow"] = flow
    query = "&".join(f"{key}={quote_plus(value, safe='')}" for key, value in sorted(params.items()))
    host = f"[{address}]" if ":" in address else address
    return f"vless://{client_uuid}@{host}:{inbound.port}?{query}#{quote(remark, safe='')}"


def remark(flag: str, name: str) -> str:
    return f"{flag} {name}".strip()
