"""Subscription rows as provisioning leaves them: hosts and `panel_clients` with cached vless links."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from shop.access.ledger import grant
from shop.db import SessionFactory
from shop.models import GrantKind, Host, PanelClient, utcnow
from tests.factories import subscriber

PBK = "Z84J2IelR9ch3k8VtlVhhs5ycBUlXA7wHBWcBrjqnAw"


def links_for(client_id: str) -> dict[str, str]:
    """One link per transport, in 3x-ui's shape (sorted query keys, §8 of 3x-ui-api.md)."""
    return {
        "reality": f"vless://{client_id}@nl1.example.com:443?encryption=none&flow=xtls-rprx-vision&fp=chrome"
        f"&pbk={PBK}&security=reality&sid=6ba85179e30d4fc2&sni=www.microsoft.com&spx=%2F&type=tcp"
        "#VLESS-Reality-sub",
        "ws": f"vless://{client_id}@de1.example.com:443?alpn=h2%2Chttp%2F1.1&encryption=none&fp=chrome"
        "&host=cdn.example.com&path=%2Fws&security=tls&sni=de1.example.com&type=ws#WS-TLS",
        "grpc": f"vless://{client_id}@fi1.example.com:443?authority=&encryption=none&fp=firefox&mode=multi"
        "&security=tls&serviceName=grpc&sni=fi1.example.com&type=grpc#gRPC",
        "xhttp": f"vless://{client_id}@us1.example.com:443?encryption=none&fp=chrome&host=&mode=auto"
        f"&path=%2Fxh&pbk={PBK}&security=reality&sid=a1&sni=www.apple.com&type=xhttp#XHTTP",
        "plain": f"vless://{client_id}@203.0.113.10:8443?encryption=none&security=none&type=tcp#Plain",
    }


# (kind, host name, flag, sort order): ids are created in this order, the shop's order is sort_order.
HOSTS = [
    ("ws", "Germany", "🇩🇪", 20),
    ("reality", "Netherlands", "🇳🇱", 10),
    ("plain", "Poland", "🇵🇱", 50),
    ("grpc", "Finland", "🇫🇮", 30),
    ("xhttp", "USA", "🇺🇸", 40),
]
ORDER = ["🇳🇱 Netherlands", "🇩🇪 Germany", "🇫🇮 Finland", "🇺🇸 USA", "🇵🇱 Poland"]
KINDS_IN_ORDER = ["reality", "ws", "grpc", "xhttp", "plain"]


@dataclass
class Seeded:
    subscription_id: int
    token: str
    client_id: str
    expires_at: datetime | None
    host_ids: dict[str, int]


async def make_hosts(sessions: SessionFactory, panel_url: str = "http://127.0.0.1:9/") -> dict[str, int]:
    """The five hosts, plus a disabled one whose cached links must never be served."""
    async with sessions() as session, session.begin():
        rows = {
            kind: Host(name=name, flag=flag, sort_order=order, panel_url=panel_url, inbound_id=1)
            for kind, name, flag, order in HOSTS
        }
        rows["disabled"] = Host(
            name="Retired", flag="🏳", sort_order=1, panel_url=panel_url, inbound_id=1, enabled=False
        )
        session.add_all(rows.values())
    return {kind: host.id for kind, host in rows.items()}


async def seed_subscription(
    sessions: SessionFactory,
    host_ids: dict[str, int],
    telegram_id: int = 1001,
    days: int | None = 30,
    kinds: list[str] | None = None,
    now: datetime | None = None,
    traffic: tuple[int, int] = (1_048_576, 73_400_320),
) -> Seeded:
    subscription = await subscriber(sessions, telegram_id, f"User{telegram_id}")
    expires_at = None
    if days is not None:
        result = await grant(
            sessions,
            subscription.id,
            f"test:{telegram_id}",
            timedelta(days=days),
            GrantKind.PURCHASE,
            "test",
            now,
        )
        expires_at = result.expires_at
    client_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"vpnshop:{subscription.id}"))
    links = links_for(client_id)
    wanted = kinds if kinds is not None else [*KINDS_IN_ORDER, "disabled"]
    async with sessions() as session, session.begin():
        for kind in wanted:
            link = links.get(kind, links["plain"])
            session.add(
                PanelClient(
                    subscription_id=subscription.id,
                    host_id=host_ids[kind],
                    client_uuid=client_id,
                    email=f"sub{subscription.id}-{kind}",
                    sub_id=f"s{subscription.id}",
                    link=link,
                    expiry_written=expires_at,
                    enabled_written=True,
                    upload=traffic[0],  # per client: the subscription's total is the sum
                    download=traffic[1],
                    last_sync_at=utcnow(),
                )
            )
    return Seeded(subscription.id, subscription.token, client_id, expires_at, host_ids)
