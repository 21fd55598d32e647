"""Fixtures of the bot suite: a running shop bot against the Telegram sandbox (see kit.py)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import pytest
from playwright.async_api import Browser, BrowserContext, Page
from temporalio.client import Client

from tests.bot.desk_kit import SupportDesk, open_desk
from tests.bot.kit import Person, Shop, open_shop
from tests.conftest import Database

OpenShop = Callable[..., AbstractAsyncContextManager[Shop]]
ADMIN_ID = 900


@pytest.fixture
def shop_with(sqlite_db: Database, temporal_client: Client, task_queue: str) -> OpenShop:
    """Opens the shop with setting overrides (and providers=True, extra_routers=...)."""

    def opener(**settings: Any) -> AbstractAsyncContextManager[Shop]:
        settings.setdefault("admin_ids", str(ADMIN_ID))
        return open_shop(sqlite_db, temporal_client, task_queue, **settings)

    return opener


CONSOLE_LINK = re.compile(r"https?://\S+/console/signin/\S+")


async def console_signed_in(browser: Browser, operator: Person) -> tuple[BrowserContext, Page]:
    """`/console` in the bot, and the link it sends opened and used on a phone-sized page."""
    await operator.says("/console")
    found = CONSOLE_LINK.search(operator.last.text or "")
    assert found is not None, operator.last.text
    context = await browser.new_context(viewport={"width": 390, "height": 844})
    page = await context.new_page()
    await page.goto(found.group(0))
    await page.get_by_role("button", name="Sign in").click()
    await page.get_by_role("heading", name="Dashboard").wait_for()
    return context, page


@pytest.fixture
async def shop(shop_with: OpenShop) -> AsyncIterator[Shop]:
    async with shop_with() as opened:
        yield opened


OpenDesk = Callable[..., AbstractAsyncContextManager[SupportDesk]]


@pytest.fixture
def desk_with(sqlite_db: Database, temporal_client: Client, task_queue: str) -> OpenDesk:
    """Opens the support desk's own bot with setting overrides (and basic_group=True)."""

    def opener(**settings: Any) -> AbstractAsyncContextManager[SupportDesk]:
        return open_desk(sqlite_db, temporal_client, task_queue, **settings)

    return opener


@pytest.fixture
async def desk(desk_with: OpenDesk) -> AsyncIterator[SupportDesk]:
    async with desk_with() as opened:
        yield opened
