"""/console and the /admin button: an operator gets a one-time sign-in link that opens the console
once; a customer gets no link."""

from __future__ import annotations

import re

from tests.bot.conftest import ADMIN_ID, OpenShop
from tests.sub_client import api_client

LINK = re.compile(r"(https?://\S+/console/signin/(\S+))")


async def test_operator_gets_a_link_that_works_once_and_a_customer_none(shop_with: OpenShop) -> None:
    async with shop_with(console_support_ids="902") as shop:
        boss = await shop.started(ADMIN_ID, "Boss", "en")
        helper = await shop.started(902, "Helper", "ru")
        eve = await shop.started(31, "Eve", "en")
        await boss.says("/console")
        found = LINK.search(boss.last.text or "")
        assert found and found.group(1).startswith(shop.ctx.settings.base_url)
        assert "one use, valid 10 minutes" in (boss.last.text or "")
        await eve.says("/console")
        assert "/console/signin/" not in (eve.last.text or "")
        await helper.says("/console")
        helper_link = LINK.search(helper.last.text or "")
        assert helper_link and helper_link.group(2).startswith("902.")
        await boss.says("/admin")
        await boss.taps("Web console")
        second = LINK.search(boss.last.text or "")
        assert second and second.group(2) != found.group(2)
        async with api_client(shop.ctx) as browser:
            assert (await browser.post(f"/console/signin/{found.group(2)}")).status_code == 303
            home = await browser.get("/console/")
            assert home.status_code == 200 and f"{ADMIN_ID} · owner" in home.text  # English, from Telegram
        async with api_client(shop.ctx) as replay:
            assert (await replay.post(f"/console/signin/{found.group(2)}")).status_code == 403
