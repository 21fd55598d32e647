"""vless:// links: every security x network, the flow rule, stable parameters, address and remark."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from shop.panel.links import UnsupportedInbound, vless_link
from shop.panel.models import VISION, Inbound

UUID = "b831381d-6324-4d53-ad4f-8cda48b30811"
REALITY = {
    "serverNames": ["www.microsoft.com", "learn.microsoft.com"],
    "shortIds": ["6ba85179e30d4fc2", "a1"],
    "settings": {
        "publicKey": "Z84J2IelR9ch3k8VtlVhhs5ycBUlXA7wHBWcBrjqnAw",
        "fingerprint": "chrome",
        "spiderX": "/",
    },
}
TLS = {"serverName": "vpn.example.com", "alpn": ["h2", "http/1.1"], "settings": {"fingerprint": "firefox"}}
NETWORK: dict[str, dict[str, Any]] = {
    "tcp": {"tcpSettings": {"header": {"type": "none"}}},
    "ws": {"wsSettings": {"path": "/ws", "host": "cdn.example.com"}},
    "grpc": {"grpcSettings": {"serviceName": "grpc", "authority": "", "multiMode": True}},
    "httpupgrade": {"httpupgradeSettings": {"path": "/up", "host": ""}},
    "xhttp": {"xhttpSettings": {"path": "/xh", "host": "", "mode": "auto"}},
}


def inbound(network: str, security: str, **settings: Any) -> Inbound:
    stream: dict[str, Any] = {"network": network, "security": security, **NETWORK[network]}
    if security == "reality":
        stream["realitySettings"] = REALITY
    if security == "tls":
        stream["tlsSettings"] = TLS
    return Inbound.parse(
        {
            "id": 3,
            "protocol": "vless",
            "port": 443,
            "settings": {"clients": [], "encryption": "none", **settings},
            "streamSettings": stream,
        }
    )


def params(link: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(link).query, keep_blank_values=True).items()}


@pytest.mark.parametrize("security", ["reality", "tls", "none"])
@pytest.mark.parametrize("network", list(NETWORK))
def test_every_combination(network: str, security: str) -> None:
    if security == "reality" and network in ("ws", "httpupgrade"):
        with pytest.raises(UnsupportedInbound, match=f"REALITY over {network}, which Xray cannot run"):
            vless_link(inbound(network, security), UUID, "vpn.example.com", "x", "subA")
        return
    link = vless_link(inbound(network, security), UUID, "vpn.example.com", "🇩🇪 Frankfurt", "subA")
    parts = urlsplit(link)
    assert (parts.scheme, parts.username, parts.hostname, parts.port) == (
        "vless",
        UUID,
        "vpn.example.com",
        443,
    )
    assert unquote(parts.fragment) == "🇩🇪 Frankfurt"
    query = params(link)
    assert query["type"] == network and query["security"] == security and query["encryption"] == "none"
    keys = list(parse_qs(parts.query, keep_blank_values=True))
    assert keys == sorted(keys)  # Go's url.Values order, as 3x-ui writes them
    assert ("flow" in query) == (network == "tcp" and security != "none")
    if "flow" in query:
        assert query["flow"] == VISION
    if network in ("ws", "httpupgrade", "xhttp"):
        assert "path" in query and "host" in query  # both present even when empty
    if network == "grpc":
        assert (query["serviceName"], query["authority"], query["mode"]) == ("grpc", "", "multi")
    if security == "reality":
        assert query["pbk"] == REALITY["settings"]["publicKey"]  # type: ignore[index]
        assert query["sni"] in REALITY["serverNames"] and query["sid"] in REALITY["shortIds"]
        assert query["spx"].startswith("/") and len(query["spx"]) == 16
    if security == "tls":
        assert (query["sni"], query["alpn"], query["fp"]) == ("vpn.example.com", "h2,http/1.1", "firefox")


def test_links_are_stable_per_subscription_and_vary_between_them() -> None:
    reality = inbound("tcp", "reality")
    same = {vless_link(reality, UUID, "a.example", "x", "sub-1") for _ in range(5)}
    assert len(same) == 1
    others = {params(vless_link(reality, UUID, "a.example", "x", f"sub-{i}"))["spx"] for i in range(20)}
    assert len(others) == 20


def test_xhttp_with_vless_encryption_carries_vision_and_ipv6_is_bracketed() -> None:
    encrypted = inbound("xhttp", "none", encryption="mlkem768x25519plus.native.0rtt.abc")
    link = vless_link(encrypted, UUID, "2001:db8::1", "v6", "s")
    assert params(link)["flow"] == VISION and "@[2001:db8::1]:443" in link


def test_unsupported_inbounds_are_refused() -> None:
    vmess = Inbound.parse({"id": 1, "protocol": "vmess", "port": 1, "settings": "{}", "streamSettings": "{}"})
    with pytest.raises(UnsupportedInbound, match="vmess, not VLESS"):
        vless_link(vmess, UUID, "a", "b", "c")
    kcp = Inbound.parse(
        {"id": 1, "protocol": "vless", "port": 1, "settings": {}, "streamSettings": {"network": "kcp"}}
    )
    with pytest.raises(UnsupportedInbound, match="kcp"):
        vless_link(kcp, UUID, "a", "b", "c")


def test_string_and_object_settings_parse_the_same() -> None:
    import json

    as_objects = inbound("ws", "tls")
    as_strings = Inbound.parse(
        {
            "id": 3,
            "protocol": "vless",
            "port": 443,
            "settings": json.dumps(as_objects.settings),
            "streamSettings": json.dumps(as_objects.stream),
        }
    )
    assert vless_link(as_objects, UUID, "h", "r", "s") == vless_link(as_strings, UUID, "h", "r", "s")
