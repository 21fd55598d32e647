"""The Settings page: grouped fields with their source, a save that the domain sees at once, bad
input beside the field with nothing changed, reset, owner only, CSRF, and the audit log."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from console.auth import LANG_COOKIE
from shop.models import AuditEntry, ShopSetting
from shop.operators import audit
from tests.conftest import Database
from tests.console_client import OWNER, SUPPORT, console_context, sign_in
from tests.sub_client import api_client

LINKS = {
    "terms_url": "https://example.com/terms",
    "privacy_url": "",
    "support_url": "https://t.me/owner_help",
    "channel_url": "@ownernews",
    "channel_chat_id": "",
}


async def _count(db: Database, model: type[ShopSetting] | type[AuditEntry]) -> int:
    async with db.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


def _field(html: str, name: str) -> str:
    """The field's block: from its label to the next field."""
    start = html.index(f'name="{name}"')
    end = html.find('<div class="field', start)
    return html[html.rfind('<div class="field', 0, start) : end if end > 0 else None]


async def test_owner_sees_sources_saves_and_resets(db: Database) -> None:
    ctx = console_context(db, shop_name="Env VPN", support_url="https://t.me/env_help")
    async with api_client(ctx) as client:
        csrf = await sign_in(client, ctx, OWNER)
        client.cookies.set(LANG_COOKIE, "en")
        page = await client.get("/console/settings")
        assert page.status_code == 200
        for group in (
            "Shop",
            "Links and channel",
            "Free trial",
            "Referral program",
            "Payment methods",
            "Texts",
        ):
            assert f"<h2>{group}</h2>" in page.text
        assert "from .env · SHOP_NAME" in _field(page.text, "shop_name")
        assert 'value="Env VPN"' in _field(page.text, "shop_name")
        assert "default" in _field(page.text, "terms_url")

        saved = await client.post(
            "/console/settings/links", data={**LINKS, "force_channel_subscription": "on", "csrf_token": csrf}
        )
        assert saved.status_code == 303 and "done=done_settings_saved" in saved.headers["location"]
        owner = await ctx.storefront.current()
        assert (owner.support_url, owner.channel_url, owner.force_channel_subscription) == (
            "https://t.me/owner_help", "@ownernews", True,
        )  # fmt: skip
        page = await client.get("/console/settings")
        assert "set here" in _field(page.text, "support_url") and "reset" in _field(page.text, "support_url")

        # Unticking the box turns it off; the texts form leaves the links alone.
        await client.post("/console/settings/links", data={**LINKS, "csrf_token": csrf})
        await client.post(
            "/console/settings/texts", data={"about.ru": "<b>Быстрый</b> VPN", "csrf_token": csrf}
        )
        owner = await ctx.storefront.current()
        assert not owner.force_channel_subscription and owner.text("about", "ru") == "<b>Быстрый</b> VPN"
        assert owner.support_url == "https://t.me/owner_help"

        reset = await client.post("/console/settings/reset", data={"name": "support_url", "csrf_token": csrf})
        assert reset.status_code == 303
        assert (await ctx.storefront.current()).support_url == "https://t.me/env_help"

    entries, _ = await audit.entries(ctx.sessions)
    assert [e.action for e in entries] == [
        "settings.reset",
        "settings.update",
        "settings.update",
        "settings.update",
    ]
    assert all(e.actor_id == OWNER and e.channel == "console" for e in entries)
    assert entries[-1].after == {
        "terms_url": "https://example.com/terms", "support_url": "https://t.me/owner_help",
        "channel_url": "@ownernews", "force_channel_subscription": True,
    }  # fmt: skip


async def test_bad_input_is_shown_beside_the_field_and_changes_nothing(db: Database) -> None:
    ctx = console_context(db)
    async with api_client(ctx) as client:
        csrf = await sign_in(client, ctx, OWNER)
        client.cookies.set(LANG_COOKIE, "en")
        refused = await client.post(
            "/console/settings/referral",
            data={"referrals_enabled": "on", "referral_percent": "-5", "referral_discount_percent": "5",
                  "referral_min_withdrawal": "abc", "csrf_token": csrf},
        )  # fmt: skip
        assert refused.status_code == 422
        assert "Please correct the fields marked below" in refused.text
        percent = _field(refused.text, "referral_percent")
        assert (
            'value="-5"' in percent
            and "Out of the allowed range" in percent
            and 'aria-invalid="true"' in percent
        )
        assert "Enter a whole number" in _field(refused.text, "referral_min_withdrawal")
        assert "aria-invalid" not in _field(refused.text, "referral_discount_percent")

        html = await client.post(
            "/console/settings/texts",
            data={"welcome.en": "<b>Hello", "csrf_token": csrf},
        )
        assert html.status_code == 422
        welcome = _field(html.text, "welcome.en")
        assert "not valid Telegram HTML" in welcome and "&lt;b&gt; is never closed" in welcome

        url = await client.post(
            "/console/settings/links", data={**LINKS, "terms_url": "example.com", "csrf_token": csrf}
        )
        assert url.status_code == 422 and "https://" in _field(url.text, "terms_url")
    assert await _count(db, ShopSetting) == 0 and await _count(db, AuditEntry) == 0
    assert (await ctx.storefront.current()).referral_percent == 10


async def test_support_role_and_a_missing_csrf_token_are_refused(db: Database) -> None:
    ctx = console_context(db)
    async with api_client(ctx) as client:
        csrf = await sign_in(client, ctx, SUPPORT)
        assert (await client.get("/console/settings")).status_code == 403
        post = await client.post("/console/settings/shop", data={"shop_name": "Mine", "csrf_token": csrf})
        assert post.status_code == 403
        assert "/console/settings" not in (await client.get("/console/")).text  # not in the support's nav
    async with api_client(ctx) as client:
        await sign_in(client, ctx, OWNER)
        forged = await client.post("/console/settings/shop", data={"shop_name": "Mine", "logo_url": ""})
        assert forged.status_code == 403
    async with api_client(ctx) as client:
        anonymous = await client.get("/console/settings")
        assert anonymous.status_code == 303 and anonymous.headers["location"] == "/console/signin"
    assert await _count(db, ShopSetting) == 0 and await _count(db, AuditEntry) == 0
    assert re.search("vpnshop", (await ctx.storefront.current()).shop_name)
