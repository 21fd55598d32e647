"""What a hostile client sends the API before any authentication: oversized, slow or malformed
requests get a 4xx with a reason and change nothing; every answer says what it is."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import func, select

from api.app import create_app
from api.guard import WEBHOOK_BODY_LIMIT, GuardLimits
from api.server import server_options
from sandbox.serving import serve
from shop.context import AppContext
from shop.models import Payment
from shop.payments.cryptopay import SIGNATURE_HEADER
from tests.conftest import Database, make_context
from tests.sub_client import app_client
from tests.sub_data import make_hosts, seed_subscription

YOOKASSA_IP = "185.71.76.1"
TELEGRAM_SECRET = "s3cret-token"


def hostile_context(database: Database, **overrides: object) -> AppContext:
    settings: dict[str, object] = {
        "public_base_url": "https://vpn.example.com",
        "cryptopay_token": "1234:AAA-crypto",
        "telegram_bot_token": "123456:TEST-token",
        "bot_mode": "webhook",
        "telegram_webhook_secret": TELEGRAM_SECRET,
        "sub_rate_limit_per_minute": 0,
    }
    return make_context(database, None, "unused", **(settings | overrides))


async def _payments(database: Database) -> int:
    async with database.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Payment)) or 0)


async def _raw_exchange(base_url: str, request: bytes) -> bytes:
    host, port = base_url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(request)
        await writer.drain()
        async with asyncio.timeout(10):
            return await reader.read(4096)
    finally:
        writer.close()


async def test_oversized_body_is_refused_before_it_is_read(sqlite_db: Database) -> None:
    ctx = hostile_context(sqlite_db)
    async with serve(create_app(ctx), **server_options()) as api:
        # 100 MB announced, not one byte sent: the answer cannot have waited for the body.
        answer = await _raw_exchange(
            api,
            b"POST /webhooks/cryptopay HTTP/1.1\r\nHost: shop\r\nContent-Length: 100000000\r\n\r\n",
        )
        assert answer.startswith(b"HTTP/1.1 413 "), answer[:200]
        assert b"at most" in answer

        async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it arrives
            for _ in range(10):
                yield b"x" * (WEBHOOK_BODY_LIMIT // 4)

        async with httpx.AsyncClient(base_url=api) as http:
            just_under = await http.post(
                "/webhooks/cryptopay", content=b"{" + b" " * (WEBHOOK_BODY_LIMIT - 2)
            )
    async with app_client(create_app(ctx)) as client:
        chunked = await client.post("/webhooks/cryptopay", content=chunks())
        body_on_a_get = await client.request("GET", "/healthz", content=b"x" * WEBHOOK_BODY_LIMIT)
    assert chunked.status_code == 413
    assert just_under.status_code == 401  # within the cap: the signature check answers
    assert body_on_a_get.status_code == 413
    assert await _payments(sqlite_db) == 0


async def test_a_body_that_stops_coming_is_refused_with_408(sqlite_db: Database) -> None:
    app = create_app(hostile_context(sqlite_db), GuardLimits(body_read_seconds=0.3))
    async with serve(app, **server_options()) as api:
        answer = await _raw_exchange(
            api,
            b'POST /webhooks/cryptopay HTTP/1.1\r\nHost: shop\r\nContent-Length: 100\r\n\r\n{"a":',
        )
    assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]


def _yookassa(obj: object, event: str = "payment.succeeded") -> bytes:
    return json.dumps({"event": event, "type": "notification", "object": obj}).encode()


DEEP = b"[" * 50_000 + b"]" * 50_000
DEEP_OBJECT = b'{"event": "payment.succeeded", "object": ' + b'{"a": ' * 5000 + b"1" + b"}" * 5001
SURROGATE_ID = b'{"event": "payment.succeeded", "object": {"id": "\\ud800"}}'
YK, CP, TG = "/webhooks/yookassa", "/webhooks/cryptopay", "/telegram/webhook"
TG_SECRET = {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET.encode()}


def _metadata(metadata: object) -> bytes:
    return _yookassa({"id": "p1", "metadata": metadata})


MALFORMED: list[tuple[str, str, dict[str, bytes], bytes, int]] = [
    # (case, path, headers, body, status)
    ("non-ascii signature", CP, {SIGNATURE_HEADER: "подпись".encode()}, b"{}", 401),
    ("latin-1 signature", CP, {SIGNATURE_HEADER: b"\xe9\xff"}, b"{}", 401),
    ("non-ascii telegram secret", TG, {"X-Telegram-Bot-Api-Secret-Token": b"\xc3\xa9"}, b"{}", 403),
    ("telegram deep json", TG, TG_SECRET, DEEP, 400),
    ("telegram not an object", TG, TG_SECRET, b"[1]", 400),
    ("metadata a string", YK, {}, _metadata("order"), 400),
    ("metadata a list", YK, {}, _metadata(["x"]), 400),
    ("order_id a number", YK, {}, _metadata({"order_id": 5}), 400),
    ("order_id an object", YK, {}, _metadata({"order_id": {}}), 400),
    ("id an object", YK, {}, _yookassa({"id": {"a": 1}}), 400),
    ("refund payment_id a list", YK, {}, _yookassa({"id": "r1", "payment_id": [1]}, "refund.succeeded"), 400),
    ("deep json", YK, {}, DEEP, 400),
    ("deep object", YK, {}, DEEP_OBJECT, 400),
    ("lone surrogate id", YK, {}, SURROGATE_ID, 400),
    ("lone surrogate order", YK, {}, _metadata({"order_id": "\ud800"}), 400),
    ("invalid utf-8", YK, {}, b'{"event": "\xff\xfe"}', 400),
]


@pytest.mark.parametrize(
    ("case", "path", "headers", "body", "status"), MALFORMED, ids=[m[0] for m in MALFORMED]
)
async def test_malformed_input_is_a_4xx_with_a_reason_and_changes_nothing(
    sqlite_db: Database, case: str, path: str, headers: dict[str, bytes], body: bytes, status: int
) -> None:
    async with app_client(create_app(hostile_context(sqlite_db)), YOOKASSA_IP) as client:
        response = await client.post(
            path, content=body, headers={name.encode(): value for name, value in headers.items()}
        )
    assert response.status_code == status, (case, response.text)
    assert response.text.strip(), "a refusal says why"
    assert await _payments(sqlite_db) == 0


async def test_every_answer_has_a_content_type_and_html_cannot_be_framed(sqlite_db: Database) -> None:
    seeded = await seed_subscription(sqlite_db.sessions, await make_hosts(sqlite_db.sessions))
    ctx = hostile_context(sqlite_db, bot_mode="polling")
    async with app_client(create_app(ctx)) as client:
        answers = {
            "unknown token, app": await client.get("/sub/" + "B" * 32, headers={"User-Agent": "v2rayNG/1.8"}),
            "unknown token, browser": await client.get("/sub/" + "B" * 32, headers={"Accept": "text/html"}),
            "page": await client.get(f"/sub/{seeded.token}", headers={"Accept": "text/html"}),
            "import redirect": await client.get(f"/import/{seeded.token}/happ"),
            "no route": await client.get("/nothing"),
            "webhook refusal": await client.post("/webhooks/cryptopay", content=b"{}"),
        }
    for name, response in answers.items():
        assert response.headers.get("content-type"), f"{name}: no content type"
        assert response.headers["x-content-type-options"] == "nosniff", name
    for name in ("unknown token, browser", "page"):
        assert answers[name].headers["content-type"].startswith("text/html")
        assert "frame-ancestors 'none'" in answers[name].headers["content-security-policy"], name
