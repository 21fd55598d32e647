"""/sub/<token> over HTTP: every format and header, in the shop's host order, on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from urllib.parse import unquote

import pytest
import yaml

from shop.context import AppContext
from tests.conftest import Database, make_context
from tests.sub_client import api_client
from tests.sub_data import KINDS_IN_ORDER, ORDER, PBK, links_for, make_hosts, seed_subscription

TITLE = "Мой VPN 🚀"
SETTINGS = {
    "public_base_url": "https://vpn.example.com",
    "sub_profile_title": TITLE,
    "support_url": "https://t.me/example_support",
    "sub_renew_url": "https://t.me/example_shop_bot",
    "sub_update_interval_hours": 6,
    "sub_rate_limit_per_minute": 0,
}


def sub_context(database: Database, **overrides: object) -> AppContext:
    return make_context(database, None, "unused", **{**SETTINGS, **overrides})


def fragments(body: str) -> list[str]:
    return [unquote(line.split("#", 1)[1]) for line in body.splitlines()]


async def test_base64_is_the_default_with_links_in_host_order(db: Database) -> None:
    hosts = await make_hosts(db.sessions)
    seeded = await seed_subscription(db.sessions, hosts)
    async with api_client(sub_context(db)) as client:
        response = await client.get(f"/sub/{seeded.token}", headers={"User-Agent": "v2rayNG/1.8.5"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    text = base64.b64decode(response.text, validate=True).decode()
    assert text.endswith("\n")
    assert fragments(text) == ORDER  # the disabled host's cached link is not served
    cached = links_for(seeded.client_id)
    for line, kind in zip(text.splitlines(), KINDS_IN_ORDER, strict=True):
        assert line.split("#")[0] == cached[kind].split("#")[0]  # the cached link itself, byte for byte


async def test_every_format_carries_the_same_servers(db: Database) -> None:
    hosts = await make_hosts(db.sessions)
    seeded = await seed_subscription(db.sessions, hosts)
    async with api_client(sub_context(db)) as client:
        bodies = {
            name: await client.get(f"/sub/{seeded.token}", params={"format": name})
            for name in ("plain", "clash", "singbox", "xray-json")
        }
    assert {name: r.status_code for name, r in bodies.items()} == dict.fromkeys(bodies, 200)
    assert fragments(bodies["plain"].text) == ORDER

    clash = yaml.safe_load(bodies["clash"].text)
    assert bodies["clash"].headers["content-type"].startswith("text/yaml")
    assert [proxy["name"] for proxy in clash["proxies"]] == ORDER
    reality = clash["proxies"][0]
    assert reality["flow"] == "xtls-rprx-vision"
    assert reality["reality-opts"] == {"public-key": PBK, "short-id": "6ba85179e30d4fc2"}
    assert clash["proxies"][1]["ws-opts"] == {"path": "/ws", "headers": {"Host": "cdn.example.com"}}
    assert clash["proxies"][2]["grpc-opts"] == {"grpc-service-name": "grpc"}
    assert clash["proxies"][3]["network"] == "xhttp"
    assert clash["proxies"][4]["tls"] is False
    assert clash["proxy-groups"][0]["proxies"] == ["AUTO", *ORDER]

    singbox = json.loads(bodies["singbox"].text)
    vless = [item for item in singbox["outbounds"] if item["type"] == "vless"]
    # sing-box has no XHTTP transport: that one server cannot be expressed there.
    assert [item["tag"] for item in vless] == [name for name in ORDER if name != "🇺🇸 USA"]
    assert vless[0]["tls"]["reality"]["short_id"] == "6ba85179e30d4fc2"
    assert vless[0]["flow"] == "xtls-rprx-vision"
    assert vless[1]["transport"] == {"type": "ws", "path": "/ws", "headers": {"Host": "cdn.example.com"}}
    assert all(item["uuid"] == seeded.client_id for item in vless)

    xray = json.loads(bodies["xray-json"].text)
    assert [config["remarks"] for config in xray] == ORDER
    streams = [config["outbounds"][0]["streamSettings"] for config in xray]
    assert [stream["network"] for stream in streams] == ["tcp", "ws", "grpc", "xhttp", "tcp"]
    assert streams[0]["realitySettings"]["publicKey"] == vless[0]["tls"]["reality"]["public_key"]
    assert streams[2]["grpcSettings"]["multiMode"] is True


async def test_headers_carry_real_expiry_traffic_and_a_non_ascii_title(db: Database) -> None:
    hosts = await make_hosts(db.sessions)
    seeded = await seed_subscription(db.sessions, hosts, traffic=(1_000, 5_000))
    assert seeded.expires_at is not None
    async with api_client(sub_context(db)) as client:
        response = await client.get(f"/sub/{seeded.token}")
    headers = response.headers
    clients = len(KINDS_IN_ORDER) + 1  # traffic of the disabled host's client counts too
    assert headers["subscription-userinfo"] == (
        f"upload={1_000 * clients}; download={5_000 * clients}; total=0; "
        f"expire={int(seeded.expires_at.timestamp())}"
    )
    title = headers["profile-title"]
    assert title.startswith("base64:")
    assert base64.b64decode(title.removeprefix("base64:")).decode() == TITLE
    assert headers["profile-update-interval"] == "6"
    assert headers["support-url"] == "https://t.me/example_support"
    assert headers["profile-web-page-url"] == f"https://vpn.example.com/sub/{seeded.token}"
    assert headers["content-disposition"].startswith('attachment; filename="VPN"')
    assert "filename*=UTF-8''%D0%9C%D0%BE%D0%B9" in headers["content-disposition"]
    assert headers["cache-control"] == "no-store"
    assert "announce" not in headers


async def test_long_titles_are_cut_for_happ(sqlite_db: Database) -> None:
    hosts = await make_hosts(sqlite_db.sessions)
    seeded = await seed_subscription(sqlite_db.sessions, hosts)
    async with api_client(sub_context(sqlite_db, sub_profile_title="Очень длинное название нашего VPN")) as c:
        response = await c.get(f"/sub/{seeded.token}")
    title = base64.b64decode(response.headers["profile-title"].removeprefix("base64:")).decode()
    assert title == "Очень длинное название на"[:25]
    assert len(title) == 25


@pytest.mark.parametrize(
    ("user_agent", "accept", "expected"),
    [
        ("clash-verge/v2.0.3", "*/*", "text/yaml"),
        ("mihomo/1.19.0", "*/*", "text/yaml"),
        ("SFA/1.11.4 (Android 14)", "*/*", "application/json"),
        ("v2rayNG/1.9.30", "*/*", "text/plain"),
        ("Happ/3.5.1", "*/*", "text/plain"),  # Xray JSON for apps is off by default
        ("Mozilla/5.0 (iPhone) Safari/604.1", "text/html,application/xhtml+xml", "text/html"),
        ("HiddifyNext/2.5.7", "text/html,*/*", "text/plain"),  # an app saying it takes html is still an app
    ],
)
async def test_format_follows_the_app(
    sqlite_db: Database, user_agent: str, accept: str, expected: str
) -> None:
    hosts = await make_hosts(sqlite_db.sessions)
    seeded = await seed_subscription(sqlite_db.sessions, hosts)
    async with api_client(sub_context(sqlite_db)) as client:
        response = await client.get(
            f"/sub/{seeded.token}", headers={"User-Agent": user_agent, "Accept": accept}
        )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(expected)


async def test_xray_json_for_capable_apps_when_enabled(sqlite_db: Database) -> None:
    hosts = await make_hosts(sqlite_db.sessions)
    seeded = await seed_subscription(sqlite_db.sessions, hosts)
    async with api_client(sub_context(sqlite_db, sub_xray_json_for_apps=True)) as client:
        happ = await client.get(f"/sub/{seeded.token}", headers={"User-Agent": "Happ/1.63.1"})
        old = await client.get(f"/sub/{seeded.token}", headers={"User-Agent": "v2rayNG/1.8.5"})
    assert [config["remarks"] for config in happ.json()] == ORDER
    assert old.headers["content-type"].startswith("text/plain")


async def test_one_server_gives_one_xray_object(sqlite_db: Database) -> None:
    hosts = await make_hosts(sqlite_db.sessions)
    seeded = await seed_subscription(sqlite_db.sessions, hosts, kinds=["reality"])
    async with api_client(sub_context(sqlite_db)) as client:
        response = await client.get(f"/sub/{seeded.token}?format=xray-json")
    body = response.json()
    assert isinstance(body, dict)
    assert body["remarks"] == "🇳🇱 Netherlands"


async def test_head_answers_headers_only(sqlite_db: Database) -> None:
    hosts = await make_hosts(sqlite_db.sessions)
    seeded = await seed_subscription(sqlite_db.sessions, hosts)
    async with api_client(sub_context(sqlite_db)) as client:
        response = await client.head(f"/sub/{seeded.token}")
    assert response.status_code == 200
    assert response.headers["subscription-userinfo"].startswith("upload=")


async def test_a_corrupt_cached_link_is_left_out_of_structured_formats(sqlite_db: Database) -> None:
    from sqlalchemy import update

    from shop.models import PanelClient

    hosts = await make_hosts(sqlite_db.sessions)
    seeded = await seed_subscription(sqlite_db.sessions, hosts)
    async with sqlite_db.sessions() as session, session.begin():
        await session.execute(
            update(PanelClient).where(PanelClient.host_id == hosts["grpc"]).values(link="vless://broken")
        )
    async with api_client(sub_context(sqlite_db)) as client:
        clash = await client.get(f"/sub/{seeded.token}?format=clash")
    assert [p["name"] for p in yaml.safe_load(clash.text)["proxies"]] == [
        n for n in ORDER if n != "🇫🇮 Finland"
    ]


async def test_expiry_header_moves_with_a_renewal(sqlite_db: Database) -> None:
    from shop.access.ledger import grant
    from shop.models import GrantKind

    hosts = await make_hosts(sqlite_db.sessions)
    seeded = await seed_subscription(sqlite_db.sessions, hosts)
    renewed = await grant(
        sqlite_db.sessions, seeded.subscription_id, "renewal", timedelta(days=30), GrantKind.PURCHASE, "test"
    )
    async with api_client(sub_context(sqlite_db)) as client:
        response = await client.get(f"/sub/{seeded.token}")
    assert f"expire={int(renewed.expires_at.timestamp())}" in response.headers["subscription-userinfo"]
