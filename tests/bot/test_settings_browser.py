"""The owner edits settings in a real browser (Playwright driving Debian's Chromium) and the running
bot (the real Dispatcher, polling the Telegram sandbox) shows them without a restart: a bad link is
refused beside its field first, then the About text and the support link change, and the
dashboard shows the shop."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser

from api.app import create_app
from sandbox.serving import serve
from shop.operators import audit
from shop.storefront.fields import Source
from tests.bot.conftest import ADMIN_ID, OpenShop, console_signed_in

pytestmark = pytest.mark.browser


async def test_owner_edits_a_text_and_the_bot_shows_it_without_a_restart(
    shop_with: OpenShop, browser: Browser
) -> None:
    # The console is served by its own app on the same database, as the API process would be.
    async with shop_with(settings_cache_seconds=0) as shop, serve(create_app(shop.ctx)) as base:
        shop.ctx.settings.public_base_url = base
        boss = await shop.started(ADMIN_ID, "Boss", "en")
        ann = await shop.started(41, "Ann", "en")
        await ann.taps("About")
        assert ann.last.text is not None and ann.last.text.startswith("ℹ️ vpnshop")

        context, page = await console_signed_in(browser, boss)
        assert await page.get_by_text("paid, active").count() == 1

        await page.get_by_role("link", name="Settings").click()
        await page.get_by_role("heading", name="Settings", exact=True).wait_for()
        links = page.locator("#links")
        await links.locator("#support_url").fill("t.me/owner_help")  # no scheme: refused
        await links.get_by_role("button", name="Save").click()
        error = page.locator("#support_url-error")
        assert await error.inner_text() == "Enter a web address starting with https://, or leave it empty."
        assert await page.input_value("#support_url") == "t.me/owner_help"  # what was typed stays
        assert (await shop.ctx.storefront.current()).support_url == ""
        await page.locator("#support_url").fill("https://t.me/owner_help")
        await page.locator("#links").get_by_role("button", name="Save").click()
        await page.get_by_text("Settings saved").wait_for()

        texts = page.locator("#texts")
        await texts.locator('[name="about.en"]').fill("<b>Owner VPN</b>: servers in five countries.")
        await texts.get_by_role("button", name="Save").click()
        await page.get_by_text("Settings saved").wait_for()
        about = page.locator('[name="about.en"]').locator("xpath=..")
        assert "set here" in await about.inner_text()

        # The bot, running all along, shows the new text and link on the next screen.
        await ann.taps("Back")
        await ann.taps("About")
        assert ann.last.text == "Owner VPN: servers in five countries."
        await ann.taps("Back")
        await ann.taps("Support")
        assert ann.last.button("Contact support")["url"] == "https://t.me/owner_help"
        await context.close()

    views = {view.name: view for view in await shop.ctx.storefront.describe()}
    assert views["about.en"].source is Source.DATABASE
    rows, _ = await audit.entries(shop.ctx.sessions)
    assert [(row.action, row.actor_id) for row in rows] == [("settings.update", ADMIN_ID)] * 2
