"""Console pages in Chromium (Playwright): the shop's API served on a free port, an operator signed
in with a one-time link on a phone-sized page (English)."""

from __future__ import annotations

from playwright.async_api import Browser, Page

from shop.context import AppContext
from tests.console_client import link_token


async def signed_in_page(browser: Browser, ctx: AppContext, base: str, operator_id: int) -> Page:
    context = await browser.new_context(viewport={"width": 390, "height": 844}, locale="en-US")
    page = await context.new_page()
    await page.goto(f"{base}/console/signin/{link_token(ctx, operator_id)}")
    await page.get_by_role("button", name="Sign in").click()
    await page.get_by_role("heading", name="Dashboard").wait_for()
    return page


async def form_values(page: Page, selector: str) -> dict[str, str | float | bool]:
    """The hidden and filled fields of a form on the page, as the browser would post them."""
    values: dict[str, str | float | bool] = await page.locator(selector).evaluate(
        "form => Object.fromEntries(new FormData(form).entries())"
    )
    return values
