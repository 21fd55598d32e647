"""Every API route against malformed bodies, headers, paths and client addresses (Hypothesis, two
hundred examples, derandomized): never a 5xx, never a change in the database."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from temporalio.client import Client

from api.app import create_app
from shop.models import Base
from shop.payments.cryptopay import SIGNATURE_HEADER, signature
from tests.conftest import Database
from tests.sub_data import make_hosts, seed_subscription
from tests.test_api_guard import TELEGRAM_SECRET, hostile_context

CRYPTOPAY_TOKEN = "1234:AAA-crypto"
CLIENTS = ["185.71.76.1", "77.75.156.11", "127.0.0.1", "198.51.100.7", "2001:db8::1", "::ffff:185.71.76.2"]
HEADER_NAMES = [
    "content-type",
    SIGNATURE_HEADER,
    "x-telegram-bot-api-secret-token",
    "x-forwarded-for",
    "accept",
    "accept-language",
    "user-agent",
    "transfer-encoding",
]


@dataclass
class Target:
    app: FastAPI
    database: Database
    token: str
    rows: list[list[Any]]  # every table, before the first request


@pytest.fixture
async def target(sqlite_db: Database, temporal_client: Client) -> AsyncIterator[Target]:
    seeded = await seed_subscription(sqlite_db.sessions, await make_hosts(sqlite_db.sessions))
    ctx = hostile_context(sqlite_db, cryptopay_token=CRYPTOPAY_TOKEN)
    ctx.temporal = temporal_client  # /healthz answers 200, webhooks could reach a workflow
    app = create_app(ctx)
    yield Target(app, sqlite_db, seeded.token, await _snapshot(sqlite_db))
    await app.state.subscriptions.close()


async def _snapshot(database: Database) -> list[list[Any]]:
    async with database.sessions() as session:
        return [list((await session.execute(select(table))).all()) for table in Base.metadata.sorted_tables]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
# Shapes close to the providers' own, so the fuzzing gets past the first type check.
notification = st.fixed_dictionaries(
    {
        "event": st.sampled_from(["payment.succeeded", "payment.canceled", "refund.succeeded"]) | st.text(),
        "object": json_values
        | st.fixed_dictionaries(
            {"id": json_values, "metadata": json_values, "payment_id": json_values, "status": json_values}
        ),
    }
)
update = st.fixed_dictionaries(
    {
        "update_type": st.sampled_from(["invoice_paid"]) | st.text(max_size=10),
        "payload": json_values | st.fixed_dictionaries({"invoice_id": json_values, "payload": json_values}),
    }
)
bodies = st.one_of(
    st.binary(max_size=300),
    json_values.map(lambda v: json.dumps(v).encode()),
    notification.map(lambda v: json.dumps(v).encode()),
    update.map(lambda v: json.dumps(v).encode()),
    st.integers(1, 3000).map(lambda depth: b"[" * depth + b"]" * depth),
    st.sampled_from(
        [b'{"event": "payment.succeeded", "object": {"id": "\\ud800"}}', b"\xff\xfe{}", b"{" * 2000]
    ),
)
header_values = st.binary(max_size=40).filter(lambda v: not any(c in v for c in b"\r\n\x00"))
headers = st.dictionaries(st.sampled_from(HEADER_NAMES), header_values, max_size=4)
path_text = st.text(max_size=70).filter(lambda s: "/" not in s and "?" not in s and "#" not in s and s)
ROUTES = [
    ("GET", "/sub/{token}"),
    ("HEAD", "/sub/{token}"),
    ("GET", "/sub/{text}"),
    ("GET", "/import/{token}/{text}"),
    ("GET", "/import/{text}/happ"),
    ("GET", "/healthz"),
    ("POST", "/webhooks/yookassa"),
    ("POST", "/webhooks/cryptopay"),
    ("POST", "/telegram/webhook"),
    ("POST", "/sub/{token}"),
    ("PUT", "/webhooks/yookassa"),
]


@settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    route=st.sampled_from(ROUTES),
    text=path_text,
    query=st.dictionaries(st.sampled_from(["format", "x"]), st.text(max_size=15), max_size=2),
    sent_headers=headers,
    body=bodies,
    client_ip=st.sampled_from(CLIENTS),
    signed=st.booleans(),
    right_secret=st.booleans(),
)
async def test_no_malformed_request_gets_a_5xx_or_changes_the_database(
    target: Target,
    route: tuple[str, str],
    text: str,
    query: dict[str, str],
    sent_headers: dict[str, bytes],
    body: bytes,
    client_ip: str,
    signed: bool,
    right_secret: bool,
) -> None:
    method, template = route
    # Percent-encoded as a client would send it (lone surrogates as their raw UTF-8 bytes).
    path = template.format(token=target.token, text=quote(text.encode("utf-8", "surrogatepass"), safe=""))
    wire_headers = {name.encode(): value for name, value in sent_headers.items()}
    if signed and path == "/webhooks/cryptopay":
        wire_headers[SIGNATURE_HEADER.encode()] = signature(CRYPTOPAY_TOKEN, body).encode()
    if right_secret and path == "/telegram/webhook":
        wire_headers[b"x-telegram-bot-api-secret-token"] = TELEGRAM_SECRET.encode()
    wire_headers.pop(b"transfer-encoding", None)  # httpx frames the body itself
    transport = httpx.ASGITransport(app=target.app, client=(client_ip, 4321))
    async with httpx.AsyncClient(transport=transport, base_url="http://shop") as client:
        content = body if method in ("POST", "PUT") or signed else None
        response = await client.request(method, path, params=query, headers=wire_headers, content=content)
    assert response.status_code < 500, (method, path, response.status_code, response.text[:200])
    assert response.headers.get("content-type"), (method, path)
    assert await _snapshot(target.database) == target.rows, (method, path)
