"""What each format must say for a core to connect: ALPN, VLESS Encryption, empty output, schemas.

Where a real core can judge the output it does: `sing-box check` (the current schema in the
test dependency's sing-box, 1.10 and 1.11 in sing-box 1.12, the last to read them) and `mihomo -t`.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from shop.subscription import render_clash, render_singbox, render_xray
from shop.subscription.content import Entry
from shop.subscription.formats import singbox_schema
from shop.subscription.render_singbox import Schema
from tests import vpn_cores
from tests.conftest import Database
from tests.sub_client import api_client
from tests.sub_data import links_for, make_hosts, seed_subscription
from tests.test_sub_endpoint import sub_context

CLIENT = "b831381d-6324-4d53-ad4f-8cda48b30811"
LINKS = links_for(CLIENT)
ENCRYPTION = "mlkem768x25519plus.native.0rtt.E-XJrWbUWSx--2DAuE8gI7JsHxXsxb8ErZP7kRxAYB0"
ENCRYPTED = (
    f"vless://{CLIENT}@de2.example.com:8080?encryption={ENCRYPTION}&host=&path=%2Fws"
    "&security=none&type=ws#Encrypted"
)
UPGRADE_TLS = (
    f"vless://{CLIENT}@de3.example.com:443?alpn=h2%2Chttp%2F1.1&encryption=none&host=&path=%2Fup"
    "&security=tls&sni=de3.example.com&type=httpupgrade#Upgrade"
)
# Without fingerprints or Reality: what the test dependency's sing-box (no uTLS) can check in full.
NO_UTLS = [
    Entry("🇩🇪 WS", LINKS["ws"].replace("&fp=chrome", "")),
    Entry("🇫🇮 gRPC", LINKS["grpc"].replace("&fp=firefox", "")),
    Entry("Upgrade", UPGRADE_TLS),
    Entry("Plain", LINKS["plain"]),
]
NOTHING_FOR_SINGBOX = {
    "xhttp-only": [Entry("🇺🇸 USA", LINKS["xhttp"])],
    "encryption-only": [Entry("Encrypted", ENCRYPTED)],
}


def singbox(entries: list[Entry], schema: Schema = Schema.CURRENT) -> dict[str, Any]:
    config: dict[str, Any] = json.loads(render_singbox.render(entries, schema, "⚠️ no server"))
    return config


def vless_outbounds(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {o["tag"]: o for o in config["outbounds"] if o["type"] == "vless"}


def clash(entries: list[Entry]) -> dict[str, Any]:
    config: dict[str, Any] = yaml.safe_load(render_clash.render(entries))
    return config


def test_websocket_and_http_upgrade_over_tls_offer_only_http11() -> None:
    entries = [
        Entry("ws", LINKS["ws"]),
        Entry("up", UPGRADE_TLS),
        Entry("grpc", LINKS["grpc"].replace("&mode=", "&alpn=h2&mode=")),
    ]
    outbounds = vless_outbounds(singbox(entries))
    # The link carries 3x-ui's default "h2,http/1.1"; offered h2, the server picks it and the
    # HTTP/1.1 upgrade dies (proven through the cores in test_sub_matrix.py).
    assert outbounds["ws"]["tls"]["alpn"] == ["http/1.1"]
    assert outbounds["up"]["tls"]["alpn"] == ["http/1.1"]
    assert outbounds["grpc"]["tls"]["alpn"] == ["h2"]  # gRPC is HTTP/2: left as the link says
    proxies = {p["name"]: p for p in clash(entries)["proxies"]}
    assert proxies["ws"]["alpn"] == ["http/1.1"]
    assert proxies["up"]["alpn"] == ["http/1.1"]
    # Xray JSON too (not runnable here): Xray's ws dialer sets http/1.1 only when no ALPN is given.
    xray = {
        c["remarks"]: c["outbounds"][0]["streamSettings"] for c in json.loads(render_xray.render(entries))
    }
    assert xray["ws"]["tlsSettings"]["alpn"] == ["http/1.1"]
    assert xray["up"]["tlsSettings"]["alpn"] == ["http/1.1"]
    assert xray["grpc"]["tlsSettings"]["alpn"] == ["h2"]


def test_clash_carries_the_vless_encryption_key() -> None:
    [proxy] = clash([Entry("Encrypted", ENCRYPTED)])["proxies"]
    assert proxy["encryption"] == ENCRYPTION
    [plain] = clash([Entry("Plain", LINKS["plain"])])["proxies"]
    assert "encryption" not in plain  # "none" is mihomo's default


def test_singbox_leaves_out_vless_encryption_servers() -> None:
    outbounds = vless_outbounds(singbox([Entry("Encrypted", ENCRYPTED), Entry("Plain", LINKS["plain"])]))
    assert list(outbounds) == ["Plain"]


@pytest.mark.parametrize("case", list(NOTHING_FOR_SINGBOX))
@pytest.mark.parametrize("schema", list(Schema))
def test_nothing_for_singbox_still_gives_a_valid_config_with_a_named_placeholder(
    case: str, schema: Schema, tmp_path: Path
) -> None:
    config = singbox(NOTHING_FOR_SINGBOX[case], schema)
    [placeholder] = vless_outbounds(config).values()
    assert placeholder["tag"] == "⚠️ no server"
    assert (placeholder["server"], placeholder["server_port"]) == ("127.0.0.1", 1)  # carries nothing
    selector = next(o for o in config["outbounds"] if o["type"] == "selector")
    assert selector["outbounds"] == ["auto", "⚠️ no server"]
    check_singbox(config, schema, tmp_path)


def test_clash_with_nothing_usable_refuses_traffic_and_loads(tmp_path: Path) -> None:
    kcp = LINKS["plain"].replace("type=tcp", "type=kcp")
    config = clash([Entry("KCP", kcp)])
    assert config["proxies"] == []
    assert config["proxy-groups"][1]["proxies"] == ["REJECT"]
    check_mihomo(config, tmp_path)


@pytest.mark.parametrize(
    ("user_agent", "schema"),
    [
        ("SFA/1.11.4 (Android 14; sing-box 1.11.4)", Schema.V1_11),
        ("SFI/1.10.7 (iOS 17)", Schema.V1_10),
        ("SFM/1.12.0", Schema.CURRENT),
        ("SFA/1.9.3", Schema.V1_10),
        ("sing-box 1.10.1", Schema.V1_10),
        ("sing-box/1.14.4", Schema.CURRENT),
        ("HiddifyNext/2.5.7 (android) like ClashMeta v2ray sing-box", Schema.V1_10),
        ("Hiddify/4.1.1", Schema.V1_11),
        ("Hiddify/5.9.15", Schema.CURRENT),
        ("Karing/1.1.2", Schema.CURRENT),
        ("", Schema.CURRENT),
    ],
)
def test_schema_follows_the_client_core(user_agent: str, schema: Schema) -> None:
    assert singbox_schema(user_agent) is schema


@pytest.mark.parametrize("schema", list(Schema))
def test_every_schema_passes_the_core_that_reads_it(schema: Schema, tmp_path: Path) -> None:
    config = singbox(NO_UTLS, schema)
    assert set(vless_outbounds(config)) == {"🇩🇪 WS", "🇫🇮 gRPC", "Upgrade", "Plain"}
    check_singbox(config, schema, tmp_path)


def test_legacy_schemas_use_nothing_newer_than_their_version() -> None:
    """The 1.12 binary reads 1.10 and 1.11 leniently; this pins what each version did not have."""
    old, mid, new = (singbox(NO_UTLS, schema) for schema in (Schema.V1_10, Schema.V1_11, Schema.CURRENT))
    for legacy in (old, mid):
        assert all("type" not in server for server in legacy["dns"]["servers"])  # typed servers: 1.12
        assert "default_domain_resolver" not in legacy["route"]  # 1.12
    assert all("action" not in rule for rule in old["route"]["rules"])  # rule actions: 1.11
    assert {"type": "dns", "tag": "dns-out"} in old["outbounds"]
    assert old["inbounds"][0]["sniff"] is True
    for modern in (mid, new):
        assert {"action": "sniff"} in modern["route"]["rules"]
        assert all(o["type"] not in {"dns", "block"} for o in modern["outbounds"])  # removed in 1.13
        assert "sniff" not in modern["inbounds"][0]  # removed in 1.13
    assert new["dns"]["servers"][0] == {
        "type": "https",
        "tag": "dns-remote",
        "server": "1.1.1.1",
        "detour": "proxy",
    }


async def test_the_endpoint_serves_the_schema_of_the_requesting_app(sqlite_db: Database) -> None:
    seeded = await seed_subscription(sqlite_db.sessions, await make_hosts(sqlite_db.sessions))
    async with api_client(sub_context(sqlite_db)) as client:
        old = await client.get(f"/sub/{seeded.token}", headers={"User-Agent": "SFA/1.10.7 (Android 13)"})
        mid = await client.get(f"/sub/{seeded.token}", headers={"User-Agent": "SFI/1.11.4"})
        new = await client.get(f"/sub/{seeded.token}", headers={"User-Agent": "SFM/1.13.2"})
    assert old.json()["dns"]["servers"][0]["address"] == "https://1.1.1.1/dns-query"
    assert {"type": "dns", "tag": "dns-out"} in old.json()["outbounds"]
    assert mid.json()["dns"]["servers"][0]["address"] == "https://1.1.1.1/dns-query"
    assert {"action": "hijack-dns", "protocol": "dns"} in mid.json()["route"]["rules"]
    assert new.json()["dns"]["servers"][0]["type"] == "https"


async def test_the_endpoint_names_the_placeholder_in_the_subscribers_language(sqlite_db: Database) -> None:
    hosts = await make_hosts(sqlite_db.sessions)
    seeded = await seed_subscription(sqlite_db.sessions, hosts, kinds=["xhttp"])
    async with api_client(sub_context(sqlite_db)) as client:
        response = await client.get(f"/sub/{seeded.token}", headers={"User-Agent": "SFA/1.12.1"})
    [placeholder] = vless_outbounds(response.json())
    assert "Happ" in placeholder and "Для этого приложения нет серверов" in placeholder


def test_fingerprints_map_to_what_each_core_knows() -> None:
    entries = [
        Entry("noalpn", LINKS["ws"].replace("fp=chrome", "fp=randomizednoalpn")),
        Entry("randomized", LINKS["ws"].replace("fp=chrome", "fp=randomized")),
        Entry("unsafe", LINKS["ws"].replace("fp=chrome", "fp=unsafe")),
        Entry("reality-nofp", LINKS["reality"].replace("&fp=chrome", "")),
    ]
    outbounds = vless_outbounds(singbox(entries))
    assert outbounds["noalpn"]["tls"]["utls"]["fingerprint"] == "randomized"
    assert outbounds["randomized"]["tls"]["utls"]["fingerprint"] == "randomized"
    assert "utls" not in outbounds["unsafe"]["tls"]
    assert outbounds["reality-nofp"]["tls"]["utls"]["fingerprint"] == "chrome"  # Reality needs uTLS
    proxies = {p["name"]: p for p in clash(entries)["proxies"]}
    assert proxies["noalpn"]["client-fingerprint"] == "random"
    assert proxies["randomized"]["client-fingerprint"] == "random"
    assert proxies["reality-nofp"]["client-fingerprint"] == "chrome"


def test_ipv6_servers_and_non_ascii_names_reach_both_cores(tmp_path: Path) -> None:
    ipv6 = LINKS["plain"].replace("203.0.113.10", "[2001:db8::10]")
    entries = [Entry("🇯🇵 東京 · IPv6", ipv6), Entry("🇷🇺 Москва", LINKS["ws"].replace("&fp=chrome", ""))]
    config = singbox(entries)
    outbounds = vless_outbounds(config)
    assert outbounds["🇯🇵 東京 · IPv6"]["server"] == "2001:db8::10"
    check_singbox(config, Schema.CURRENT, tmp_path)
    yaml_config = clash(entries)
    assert [p["server"] for p in yaml_config["proxies"]] == ["2001:db8::10", "de1.example.com"]
    assert yaml_config["proxies"][1]["name"] == "🇷🇺 Москва"
    check_mihomo(yaml_config, tmp_path)


def test_every_clash_proxy_the_shop_writes_loads_in_mihomo(tmp_path: Path) -> None:
    entries = [Entry(kind, link) for kind, link in LINKS.items()] + [Entry("Encrypted", ENCRYPTED)]
    config = clash(entries)
    assert len(config["proxies"]) == len(entries)
    check_mihomo(config, tmp_path)


def check_singbox(config: dict[str, Any], schema: Schema, directory: Path) -> None:
    path = directory / f"singbox-{schema}.json"
    path.write_text(json.dumps(config, ensure_ascii=False), encoding="utf-8")
    env = dict(os.environ)
    if schema is Schema.CURRENT:
        binary = vpn_cores.singbox_binary()
    else:
        try:
            binary = vpn_cores.legacy_singbox_binary()
        except vpn_cores.Unavailable as reason:
            pytest.skip(f"not runnable here: {reason}")
        if schema is Schema.V1_10:
            # What 1.10 had and 1.12 still reads when asked to: the special `dns` outbound.
            env["ENABLE_DEPRECATED_SPECIAL_OUTBOUNDS"] = "true"
    checked = subprocess.run(
        [str(binary), "check", "-c", str(path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr


def check_mihomo(config: dict[str, Any], directory: Path) -> None:
    home = directory / "mihomo"
    home.mkdir(exist_ok=True)
    path = home / "config.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    checked = subprocess.run(
        [str(vpn_cores.mihomo_binary()), "-t", "-d", str(home), "-f", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
