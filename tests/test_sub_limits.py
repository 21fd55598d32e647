"""Per-IP rate limit on /sub, trusted proxies, and serving with every panel down."""

from __future__ import annotations

import asyncio
import base64

import httpx
from sqlalchemy import update

from api.app import create_app
from api.ratelimit import RateLimiter
from shop.models import Host, PanelClient
from tests.conftest import Database
from tests.sub_client import api_client
from tests.sub_data import make_hosts, seed_subscription
from tests.test_sub_endpoint import sub_context


async def test_rate_limit_answers_429_with_retry_after_per_ip(sqlite_db: Database) -> None:
    seeded = await seed_subscription(sqlite_db.sessions, await make_hosts(sqlite_db.sessions))
    ctx = sub_context(sqlite_db, sub_rate_limit_per_minute=6, sub_rate_limit_burst=3)
    app = create_app(ctx)

    def client(ip: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(ip, 1)), base_url="http://t")

    async with client("203.0.113.1") as first, client("203.0.113.2") as second:
        codes = [(await first.get(f"/sub/{seeded.token}")).status_code for _ in range(3)]
        limited = await first.get(f"/sub/{seeded.token}")
        unknown = await first.get("/sub/" + "B" * 32)  # guessing tokens costs the same budget
        other = await second.get(f"/sub/{seeded.token}")
    assert codes == [200, 200, 200]
    assert limited.status_code == 429
    assert 1 <= int(limited.headers["retry-after"]) <= 10  # 6/min: one token every 10 s
    assert unknown.status_code == 429
    assert other.status_code == 200


async def test_forwarded_for_counts_only_behind_a_trusted_proxy(sqlite_db: Database) -> None:
    seeded = await seed_subscription(sqlite_db.sessions, await make_hosts(sqlite_db.sessions))
    url = f"/sub/{seeded.token}"
    untrusted = sub_context(sqlite_db, sub_rate_limit_per_minute=1, sub_rate_limit_burst=1)
    async with api_client(untrusted, "203.0.113.9") as client:
        first = await client.get(url, headers={"X-Forwarded-For": "192.0.2.1"})
        # A spoofed header from an untrusted peer cannot buy a fresh bucket.
        second = await client.get(url, headers={"X-Forwarded-For": "192.0.2.2"})
    assert (first.status_code, second.status_code) == (200, 429)

    trusted = sub_context(
        sqlite_db, sub_rate_limit_per_minute=1, sub_rate_limit_burst=1, trusted_proxies="10.0.0.0/8"
    )
    async with api_client(trusted, "10.1.2.3") as proxy:
        alice = await proxy.get(url, headers={"X-Forwarded-For": "192.0.2.1"})
        bob = await proxy.get(url, headers={"X-Forwarded-For": "192.0.2.2, 10.9.9.9"})
        alice_again = await proxy.get(url, headers={"X-Forwarded-For": "192.0.2.1"})
    assert (alice.status_code, bob.status_code, alice_again.status_code) == (200, 200, 429)


def test_token_bucket_refills_and_stays_bounded() -> None:
    limiter = RateLimiter(per_minute=60, burst=2, max_clients=100)
    assert [limiter.acquire("a", now=0.0) for _ in range(2)] == [0.0, 0.0]
    assert limiter.acquire("a", now=0.0) == 1.0
    assert limiter.acquire("a", now=1.0) == 0.0  # one token per second
    for index in range(1000):
        limiter.acquire(f"ip{index}", now=2.0)
    assert len(limiter._buckets) <= 100
    assert RateLimiter(per_minute=0, burst=1).acquire("x") == 0.0


async def test_every_panel_down_every_active_subscription_served_unchanged(db: Database) -> None:
    """No panel is ever contacted: a listener standing in for every panel sees no connection."""
    connections: list[object] = []

    async def count(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(writer.get_extra_info("peername"))
        writer.close()

    panel = await asyncio.start_server(count, "127.0.0.1", 0)
    port = panel.sockets[0].getsockname()[1]
    hosts = await make_hosts(db.sessions, panel_url=f"http://127.0.0.1:{port}/panel/")
    subscriptions = [await seed_subscription(db.sessions, hosts, telegram_id=5000 + n) for n in range(20)]
    async with api_client(sub_context(db)) as client:
        before = [await client.get(f"/sub/{s.token}") for s in subscriptions]
        panel.close()
        await panel.wait_closed()
        # What provisioning records when panels stop answering: every client awaits reconciliation.
        async with db.sessions() as session, session.begin():
            await session.execute(update(PanelClient).values(needs_reconcile=True))
            await session.execute(update(Host).values(panel_url="http://127.0.0.1:9/"))
        after = [await client.get(f"/sub/{s.token}") for s in subscriptions]
    assert [r.status_code for r in after] == [200] * len(subscriptions)
    assert [r.content for r in after] == [r.content for r in before]
    assert all(len(base64.b64decode(r.content).splitlines()) == 5 for r in after)
    assert connections == []


async def test_ipv6_clients_are_counted_by_their_64_and_import_spends_the_same_budget(
    sqlite_db: Database,
) -> None:
    seeded = await seed_subscription(sqlite_db.sessions, await make_hosts(sqlite_db.sessions))
    ctx = sub_context(sqlite_db, sub_rate_limit_per_minute=1, sub_rate_limit_burst=2)
    app = create_app(ctx)

    def client(ip: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(ip, 1)), base_url="http://t")

    async with (
        client("2001:db8:1:2::1") as first,
        client("2001:db8:1:2:ffff::9") as second,
        client("2001:db8:1:2:abcd::7") as third,
    ):
        assert (await first.get(f"/sub/{seeded.token}")).status_code == 200
        assert (await second.get(f"/sub/{seeded.token}")).status_code == 200
        # Another address in the same /64 is the same subscriber's line: no fresh budget.
        assert (await third.get(f"/sub/{seeded.token}")).status_code == 429
    async with client("2001:db8:1:3::1") as next_64, client("198.51.100.20") as guesser:
        assert (await next_64.get(f"/sub/{seeded.token}")).status_code == 200
        # /import answers whether a token exists too: it is limited like /sub, and shares its budget.
        answers = [(await guesser.get(f"/import/{'C' * 32}/happ")).status_code for _ in range(3)]
        assert answers == [404, 404, 429]
        assert (await guesser.get(f"/sub/{seeded.token}")).status_code == 429
