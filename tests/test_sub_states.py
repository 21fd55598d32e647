"""/sub/<token> states: unknown, expired, banned, never bought, not yet provisioned, rotated, bad tokens."""

from __future__ import annotations

import base64
from datetime import timedelta
from urllib.parse import quote, unquote

import pytest
from sqlalchemy import update

from api.app import create_app
from shop.customers.accounts import rotate_token
from shop.models import User, utcnow
from shop.subscription.store import SqliteReader
from shop.subscription.vless import parse_vless
from tests.conftest import Database
from tests.sub_client import api_client, app_client
from tests.sub_data import make_hosts, seed_subscription
from tests.test_sub_endpoint import sub_context


def entries_of(body: str) -> list[str]:
    return base64.b64decode(body).decode().splitlines()


def expire_of(userinfo: str) -> int:
    return int(userinfo.rsplit("expire=", 1)[1])


async def test_unknown_token_is_an_empty_404(db: Database) -> None:
    await seed_subscription(db.sessions, await make_hosts(db.sessions))
    async with api_client(sub_context(db)) as client:
        response = await client.get("/sub/" + "A" * 32)
        page = await client.get("/sub/" + "A" * 32, headers={"Accept": "text/html", "Accept-Language": "en"})
    assert response.status_code == 404
    assert response.content == b""
    assert "subscription-userinfo" not in response.headers
    assert page.status_code == 404
    assert "Link not found" in page.text


async def test_known_and_unknown_tokens_cost_one_identical_query(sqlite_db: Database) -> None:
    """Timing equality by construction: the same single indexed statement either way."""
    seeded = await seed_subscription(sqlite_db.sessions, await make_hosts(sqlite_db.sessions))
    statements: list[str] = []
    app = create_app(sub_context(sqlite_db))
    reader = app.state.subscriptions
    assert isinstance(reader, SqliteReader)
    reader.connect().set_trace_callback(statements.append)
    setup = len(statements)
    # Another token of the same shape (a token that already ends in "x" gets a "y").
    other = seeded.token[:-1] + ("y" if seeded.token.endswith("x") else "x")
    async with app_client(app) as client:
        known = await client.get(f"/sub/{seeded.token}")
        after_known = statements[setup:]
        unknown = await client.get(f"/sub/{other}")
    assert (known.status_code, unknown.status_code) == (200, 404)
    assert len(after_known) == 1
    assert len(statements) == setup + 2
    # The trace shows bound values: the two statements differ in the token only.
    assert statements[-1] == after_known[0].replace(seeded.token, other)
    assert f"WHERE subscriptions.token = '{seeded.token}'" in after_known[0]


async def test_expired_subscription_gets_one_placeholder_and_a_past_expiry(db: Database) -> None:
    hosts = await make_hosts(db.sessions)
    seeded = await seed_subscription(db.sessions, hosts, days=3, now=utcnow() - timedelta(days=10))
    async with api_client(sub_context(db)) as client:
        response = await client.get(f"/sub/{seeded.token}")
        clash = await client.get(f"/sub/{seeded.token}?format=clash")
    assert response.status_code == 200
    [entry] = entries_of(response.text)
    name = unquote(entry.split("#", 1)[1])
    assert "истекла" in name
    assert "https://t.me/example_shop_bot" in name
    assert parse_vless(entry).address == "127.0.0.1"
    assert seeded.expires_at is not None
    assert expire_of(response.headers["subscription-userinfo"]) == int(seeded.expires_at.timestamp())
    assert expire_of(response.headers["subscription-userinfo"]) < utcnow().timestamp()
    assert base64.b64decode(response.headers["announce"].removeprefix("base64:")).decode() == name
    assert "nl1.example.com" not in clash.text
    assert "истекла" in clash.text


async def test_banned_user_gets_a_placeholder_whatever_they_paid(db: Database) -> None:
    hosts = await make_hosts(db.sessions)
    seeded = await seed_subscription(db.sessions, hosts, telegram_id=2002, days=30)
    async with db.sessions() as session, session.begin():
        await session.execute(update(User).where(User.id == 2002).values(banned=True, language="en"))
    async with api_client(sub_context(db)) as client:
        response = await client.get(f"/sub/{seeded.token}")
    [entry] = entries_of(response.text)
    assert "blocked" in unquote(entry)
    assert expire_of(response.headers["subscription-userinfo"]) <= utcnow().timestamp()


async def test_never_bought_and_not_yet_provisioned_get_placeholders(sqlite_db: Database) -> None:
    hosts = await make_hosts(sqlite_db.sessions)
    never = await seed_subscription(sqlite_db.sessions, hosts, telegram_id=3003, days=None, kinds=[])
    pending = await seed_subscription(sqlite_db.sessions, hosts, telegram_id=3004, days=30, kinds=[])
    async with api_client(sub_context(sqlite_db)) as client:
        never_response = await client.get(f"/sub/{never.token}")
        pending_response = await client.get(f"/sub/{pending.token}")
    assert "Нет активной подписки" in unquote(entries_of(never_response.text)[0])
    assert expire_of(never_response.headers["subscription-userinfo"]) < utcnow().timestamp()
    assert "Серверы готовятся" in unquote(entries_of(pending_response.text)[0])
    assert pending.expires_at is not None
    assert expire_of(pending_response.headers["subscription-userinfo"]) == int(pending.expires_at.timestamp())


async def test_rotation_kills_the_old_link_at_once(db: Database) -> None:
    seeded = await seed_subscription(db.sessions, await make_hosts(db.sessions))
    async with api_client(sub_context(db)) as client:
        before = await client.get(f"/sub/{seeded.token}")
        new_token = await rotate_token(db.sessions, seeded.subscription_id)
        old = await client.get(f"/sub/{seeded.token}")
        new = await client.get(f"/sub/{new_token}")
    assert old.status_code == 404
    assert new.status_code == 200
    assert new.text == before.text
    assert new.headers["profile-web-page-url"].endswith(new_token)


@pytest.mark.parametrize(
    "path",
    [
        "/sub/" + "a" * 65,  # too long
        "/sub/short",  # too short
        "/sub/" + quote("токенТокенТОКЕНтокен1234"),  # non-ASCII, of a valid length
        "/sub/%00" + "a" * 31,  # NUL
        "/sub/..%2F..%2Fetc%2Fpasswd",
        "/sub/%2E%2E",
        "/sub/..",
        "/sub/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa%20or%201=1",
        "/sub/'%20OR%20''='aaaaaaaaaaaaaaaaaaaa",
        "/sub/",
    ],
)
async def test_bad_tokens_are_refused_with_a_4xx(sqlite_db: Database, path: str) -> None:
    await seed_subscription(sqlite_db.sessions, await make_hosts(sqlite_db.sessions))
    async with api_client(sub_context(sqlite_db)) as client:
        response = await client.get(path)
    assert 400 <= response.status_code < 500
    assert "vless://" not in response.text
    assert "subscription-userinfo" not in response.headers


async def test_unknown_format_is_a_clear_400(sqlite_db: Database) -> None:
    seeded = await seed_subscription(sqlite_db.sessions, await make_hosts(sqlite_db.sessions))
    async with api_client(sub_context(sqlite_db)) as client:
        response = await client.get(f"/sub/{seeded.token}?format=outline")
    assert response.status_code == 400
    assert "unknown format" in response.text
    assert "singbox" in response.text
