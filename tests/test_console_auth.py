"""Console sign-in and sessions: one-time links, cookies, roles, CSRF, revocation."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from pathlib import Path

from fastapi.routing import APIRoute

from api.app import create_app
from console.app import ROUTERS
from shop.models import utcnow
from shop.operators import audit
from shop.operators.signin import Refusal, SigninRefused, Signins
from tests.conftest import Database
from tests.console_client import OWNER, STRANGER, SUPPORT, console_context, link_token, sign_in
from tests.panel_fixtures import TEST_KEY
from tests.sub_client import api_client, app_client
from tests.test_cli import _env, _run

PUBLIC = {"/console/signin", "/console/signin/{token}", "/console/lang/{lang}", "/console/static"}


async def test_no_page_or_action_without_a_session(sqlite_db: Database) -> None:
    """Every console route, including those added later, whatever its method."""
    ctx = console_context(sqlite_db)
    app = create_app(ctx)
    routes = [
        (method, re.sub(r"\{[^}]+\}", "1", f"/console{route.path}"))
        for router in ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute) and f"/console{route.path}" not in PUBLIC
        for method in route.methods or ()
    ]
    assert ("GET", "/console/plans") in routes and ("POST", "/console/hosts/1/reconcile") in routes
    async with app_client(app) as client:
        for method, path in routes:
            answer = await client.request(method, path, data={"name": "x", "csrf_token": "x"})
            if method == "GET":
                assert (answer.status_code, answer.headers["location"]) == (303, "/console/signin"), path
            else:
                assert answer.status_code == 401, path
    assert (await audit.entries(ctx.sessions))[1] == 0


async def test_link_signs_in_once_with_a_safe_cookie(db: Database) -> None:
    ctx = console_context(db, public_base_url="https://shop.example.com")
    token = link_token(ctx, OWNER)
    async with api_client(ctx) as client:
        # Opening the link (as Telegram's previewer would) spends nothing.
        shown = await client.get(f"/console/signin/{token}")
        assert shown.status_code == 200 and f'action="/console/signin/{token}"' in shown.text
        first = await client.post(f"/console/signin/{token}")
        assert first.status_code == 303
        cookie = first.headers["set-cookie"]
        for attribute in ("HttpOnly", "SameSite=lax", "Secure", "Max-Age=43200", "Path=/console"):
            assert attribute.lower() in cookie.lower(), cookie
    async with api_client(ctx) as other:
        again = await other.post(f"/console/signin/{token}")
        assert again.status_code == 403
        assert "уже использована" in again.text  # Russian: the default before an operator picks
        assert "set-cookie" not in again.headers


async def test_plain_http_cookie_is_not_secure(sqlite_db: Database) -> None:
    ctx = console_context(sqlite_db)
    async with api_client(ctx) as client:
        answer = await client.post(f"/console/signin/{link_token(ctx, OWNER)}")
    assert "secure" not in answer.headers["set-cookie"].lower()


async def test_expired_forged_and_foreign_links_are_refused(sqlite_db: Database) -> None:
    ctx = console_context(sqlite_db)
    signins = Signins(ctx.settings, ctx.sessions)
    old = signins.link(OWNER, now=utcnow() - timedelta(minutes=11)).rsplit("/", 1)[1]
    fresh = link_token(ctx, OWNER)
    forged = fresh.replace(f"{OWNER}.", f"{SUPPORT}.", 1)  # someone else's id, the owner's signature
    for token, reason in ((old, Refusal.EXPIRED), (forged, Refusal.MALFORMED), ("x.y", Refusal.MALFORMED)):
        try:
            await signins.redeem(token)
        except SigninRefused as refused:
            assert refused.reason is reason
        else:
            raise AssertionError(f"{token} was accepted")
    try:
        signins.link(STRANGER)
    except SigninRefused as refused:
        assert refused.reason is Refusal.NOT_OPERATOR
    else:
        raise AssertionError("a link for a stranger")
    async with api_client(ctx) as client:
        expired = await client.post(f"/console/signin/{old}")
        assert expired.status_code == 403 and "set-cookie" not in expired.headers
        assert (await client.get("/console/")).status_code == 303


async def test_forged_cookie_is_refused(sqlite_db: Database) -> None:
    ctx = console_context(sqlite_db)
    async with api_client(ctx) as client:
        await sign_in(client, ctx, SUPPORT)
        real = client.cookies["vpnshop_console"]
        operator, expiry, nonce, signature = real.split(".")
        # Support trying to become the owner with their own session's signature.
        client.cookies.set("vpnshop_console", f"{OWNER}.{expiry}.{nonce}.{signature}", path="/console")
        assert (await client.get("/console/")).status_code == 303
        client.cookies.set(
            "vpnshop_console", f"{operator}.{int(expiry) + 3600}.{nonce}.{signature}", path="/console"
        )
        assert (await client.get("/console/")).status_code == 303


async def test_leaving_admin_ids_revokes_and_sign_out_ends_the_session(sqlite_db: Database) -> None:
    ctx = console_context(sqlite_db)
    async with api_client(ctx) as client:
        csrf = await sign_in(client, ctx, OWNER)
        assert (await client.get("/console/audit")).status_code == 200
        ctx.settings.admin_ids = []  # the owner is removed from ADMIN_IDS
        assert (await client.get("/console/audit")).status_code == 303
        ctx.settings.admin_ids = [OWNER]
        assert (await client.get("/console/audit")).status_code == 200
        kept = client.cookies["vpnshop_console"]
        out = await client.post("/console/signout", data={"csrf_token": csrf})
        assert out.status_code == 303
        client.cookies.set("vpnshop_console", kept, path="/console")  # a copy of the old cookie
        assert (await client.get("/console/")).status_code == 303


async def test_missing_csrf_and_support_on_owner_pages_are_refused(sqlite_db: Database) -> None:
    ctx = console_context(sqlite_db)
    async with api_client(ctx) as client:
        await sign_in(client, ctx, SUPPORT)
        assert (await client.get("/console/audit")).status_code == 403
        home = await client.get("/console/")
        assert "/console/audit" not in home.text  # not offered in the navigation either
        refused = await client.post("/console/signout", data={})
        assert refused.status_code == 403
        assert (await client.get("/console/")).status_code == 200  # still signed in: nothing changed
    assert (await audit.entries(ctx.sessions))[1] == 0


async def test_language_switch_stays_inside_the_console(sqlite_db: Database) -> None:
    ctx = console_context(sqlite_db)
    async with api_client(ctx) as client:
        await sign_in(client, ctx, OWNER)
        away = await client.get("/console/lang/en", params={"back": "//evil.example.com/"})
        assert away.headers["location"] == "/console/"
        back = await client.get("/console/lang/en", params={"back": "/console/audit"})
        assert back.headers["location"] == "/console/audit"
        english = await client.get("/console/")
        assert "Audit log" in english.text
        await client.get("/console/lang/ru")
        assert "Журнал действий" in (await client.get("/console/")).text


async def test_console_link_command_prints_a_working_link(sqlite_db: Database, tmp_path: Path) -> None:
    env = _env(
        tmp_path, ADMIN_IDS=str(OWNER), ENCRYPTION_KEY=TEST_KEY, PUBLIC_BASE_URL="https://shop.example.com"
    )
    printed = await asyncio.to_thread(_run, ["console-link", str(OWNER)], env, tmp_path)
    assert printed.returncode == 0, printed.stderr
    link = printed.stdout.strip()
    assert link.startswith(f"https://shop.example.com/console/signin/{OWNER}.")
    refused = await asyncio.to_thread(_run, ["console-link", str(STRANGER)], env, tmp_path)
    assert refused.returncode == 2 and refused.stdout == ""
    assert (
        refused.stderr.strip()
        == f"vpnshop: {STRANGER} is not an operator: add it to ADMIN_IDS (or CONSOLE_SUPPORT_IDS)"
    )
    ctx = console_context(sqlite_db)
    cookie = await Signins(ctx.settings, ctx.sessions).redeem(link.rsplit("/", 1)[1])
    assert cookie.startswith(f"{OWNER}.")


async def test_an_api_without_encryption_key_still_starts(sqlite_db: Database) -> None:
    # A scaled API (TEMPORAL_ADDRESS set) may run without ENCRYPTION_KEY until someone signs in.
    ctx = console_context(sqlite_db, encryption_key=None)
    async with api_client(ctx) as client:
        assert (await client.get("/console/signin")).status_code == 200
        assert (await client.get("/console/")).status_code == 303
