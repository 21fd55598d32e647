"""Console sign-in and sessions: one-time links, cookies, roles, CSRF, revocation."""

from __future__ import annotations

from datetime import timedelta

from shop.models import utcnow
from shop.operators import audit
from shop.operators.signin import Refusal, SigninRefused, Signins
from tests.conftest import Database
from tests.console_client import OWNER, STRANGER, SUPPORT, console_context, link_token, sign_in
from tests.sub_client import api_client


async def test_pages_need_a_session(sqlite_db: Database) -> None:
    ctx = console_context(sqlite_db)
    async with api_client(ctx) as client:
        for path in ("/console/", "/console/audit"):
            page = await client.get(path)
            assert page.status_code == 303 and page.headers["location"] == "/console/signin"
        signout = await client.post("/console/signout")
        assert signout.status_code == 401


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
