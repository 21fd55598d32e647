"""The console in a real browser (Playwright driving Debian's Chromium): an operator signs in with
the link the sandbox bot sends, adds a sandbox 3x-ui panel, checks and reconciles it and reads the
report, creates a plan (a negative price first: the message beside the field); then a customer sees
that plan in the bot and buys it, and the access reaches the panel."""

from __future__ import annotations

import httpx
import pytest
from playwright.async_api import Browser, Page

from api.app import create_app
from sandbox.serving import serve
from shop.operators import audit
from tests.bot.conftest import ADMIN_ID, OpenShop, console_signed_in
from tests.bot.test_buy import access_card
from tests.panel_fixtures import StartPanel

pytestmark = pytest.mark.browser


async def add_host(page: Page, base: str, url: str, username: str, password: str, inbound: int) -> None:
    await page.goto(f"{base}/console/hosts")
    await page.get_by_text("No hosts yet").wait_for()
    await page.get_by_role("link", name="Add host").first.click()
    await page.fill("#name", "Frankfurt")
    await page.fill("#panel_url", url)
    await page.fill("#inbound_id", str(inbound))
    await page.fill("#username", username)
    await page.fill("#password", password)
    await page.get_by_role("button", name="Check and add").click()
    await page.get_by_text("Host added").wait_for()


async def create_plan(page: Page, base: str) -> None:
    await page.goto(f"{base}/console/plans/new")
    await page.fill("#name", "Месяц")
    await page.fill("#name_en", "Month")
    await page.fill("#duration_days", "30")
    await page.fill("#price", "-199")
    await page.get_by_role("button", name="Save").click()
    error = page.locator("#price-error")
    assert await error.inner_text() == "Must not be negative."
    assert await page.input_value("#name") == "Месяц"  # what was typed stays
    await page.fill("#price", "199")
    await page.get_by_role("button", name="Save").click()
    await page.get_by_text("Plan created").wait_for()


async def test_operator_sets_up_the_shop_and_a_customer_buys(
    shop_with: OpenShop, start_panel: StartPanel, browser: Browser
) -> None:
    panel = await start_panel(version="v3.1")
    async with shop_with(providers=True) as shop, serve(create_app(shop.ctx)) as base:
        shop.ctx.settings.public_base_url = base  # the links the bot sends point at this server
        boss = await shop.started(ADMIN_ID, "Boss", "en")
        rita = await shop.started(23, "Рита")
        await rita.taps("Купить подписку")
        assert rita.last.text == "Сейчас нет доступных тарифов. Загляните позже."

        context, page = await console_signed_in(browser, boss)
        cookies = {cookie["name"]: cookie for cookie in await context.cookies()}
        assert cookies["vpnshop_console"]["httpOnly"] and cookies["vpnshop_console"]["sameSite"] == "Lax"

        await add_host(page, base, panel.url, panel.username, panel.password, panel.inbound_id)
        await page.get_by_role("button", name="Check now").click()
        await page.get_by_text("Clients on the panel").wait_for()
        assert "v3.1" in await page.locator("#check").inner_text()
        await page.get_by_role("button", name="Reconcile now").click()
        await page.get_by_text("Reconciled just now.").wait_for()
        assert await page.locator('#report b[data-key="failed"]').inner_text() == "0"

        await create_plan(page, base)
        await rita.says("/buy")
        assert rita.last.button_texts == ["Месяц · 30 дн. — 199 ₽", "← Назад"]
        await rita.taps("Месяц")
        await rita.taps("Банковская карта")
        order = rita.last
        await rita.taps("Оплатить", on=order)
        async with httpx.AsyncClient() as customer_browser:  # the customer pays on YooKassa's page
            paid = await customer_browser.get(order.button("Перейти к оплате")["url"])
            assert paid.json()["status"] == "succeeded"
        text, _ = await access_card(rita)
        assert text.startswith("🎉 Подписка активирована!")
        assert [client["enable"] for client in panel.clients()] == [True]

        await page.goto(f"{base}/console/audit")
        table = await page.locator("table").inner_text()
        for action in ("host.add", "host.reconcile", "plan.create"):
            assert action in table
        await context.close()
    rows, _ = await audit.entries(shop.ctx.sessions)
    assert {row.actor_id for row in rows} == {ADMIN_ID}
