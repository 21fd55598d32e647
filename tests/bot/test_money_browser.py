"""The money page in a real browser (Playwright driving Debian's Chromium) beside the running bot:
the owner sees a referral withdrawal request and approves it while a second operator taps Decline
on the bot's notice at the same moment: exactly one decision counts, one audit entry, the customer
is told once, and the other operator hears it was already decided. Then a CSV export downloads
through the browser with every payment."""

from __future__ import annotations

import asyncio
import csv
import io
from pathlib import Path

import pytest
from playwright.async_api import Browser
from sqlalchemy import func, select

from api.app import create_app
from sandbox.serving import serve
from shop.customers import referrals
from shop.models import Payment, Withdrawal, WithdrawalStatus
from shop.operators import audit
from tests.bot.conftest import ADMIN_ID, OpenShop, console_signed_in
from tests.factories import delivered_payment

pytestmark = pytest.mark.browser
SECOND = 901


async def test_a_withdrawal_approved_in_the_console_while_declined_in_the_bot(
    shop_with: OpenShop, browser: Browser
) -> None:
    async with (
        shop_with(admin_ids=f"{ADMIN_ID},{SECOND}") as shop,
        serve(create_app(shop.ctx)) as base,
    ):
        shop.ctx.settings.public_base_url = base
        boss = await shop.started(ADMIN_ID, "Boss", "en")
        second = await shop.started(SECOND, "Second", "en")
        ivan = await shop.started(54, "Ivan", "en", username="ivan")
        await shop.person(56, "Friend").says("/start ref_54")
        owner = await shop.ctx.storefront.current()
        for _ in range(3):  # 47.50 + 50 + 50: the first purchase had the invitee's 5 % discount
            payment = await delivered_payment(shop.ctx.sessions, owner, 56, price="500.00")
            await referrals.record_reward(shop.ctx.sessions, owner, payment.id)
        await ivan.says("/menu")
        await ivan.taps("Referral program")
        await ivan.taps("Withdraw")
        await ivan.says("Card 2200 0000 0000 0001")
        await ivan.taps("Send request")
        notice = second.with_button("Decline")
        told_before = len(ivan.messages)

        context, page = await console_signed_in(browser, boss)
        await page.get_by_role("link", name="Money").click()
        await page.get_by_role("heading", name="Money", exact=True).wait_for()
        row = page.locator("#withdrawal-1")
        assert "147.50 RUB" in await row.inner_text() and "Card 2200 0000 0000 0001" in await row.inner_text()
        assert "rewards earned (3)" in await page.locator("#referrals").inner_text()

        async def approve_in_console() -> str:
            await row.get_by_role("button", name="Approve").click()
            flash = page.get_by_role("status")
            await flash.wait_for()
            return await flash.inner_text()

        flash, answer = await asyncio.gather(approve_in_console(), second.taps("Decline", on=notice))
        assert answer is not None
        console_won = flash == "Withdrawal approved; the customer is told."
        if console_won:
            assert answer.text == "This request was already decided."
        else:
            assert (flash, answer.text) == (
                "This request was already decided; nothing changed.",
                "Decision saved.",
            )
        assert await page.locator("#withdrawal-1").count() == 0  # decided: no longer waiting

        async with shop.ctx.sessions() as session:
            decided = await session.get(Withdrawal, 1)
        assert decided is not None
        expected = (
            (WithdrawalStatus.APPROVED, ADMIN_ID) if console_won else (WithdrawalStatus.DECLINED, SECOND)
        )
        assert (decided.status, decided.decided_by) == expected
        rows, _ = await audit.entries(shop.ctx.sessions)
        assert [(r.action, r.actor_id, r.channel) for r in rows] == [
            ("withdrawal.approve", ADMIN_ID, "console")
            if console_won
            else ("withdrawal.decline", SECOND, "bot")
        ]
        await shop.tg.wait_for(lambda: len(ivan.messages) > told_before)
        await asyncio.sleep(0.3)  # a second notice, if one were sent, would arrive by now
        told = [m.text or "" for m in ivan.messages[told_before:]]
        assert len(told) == 1 and ("approved" if console_won else "declined") in told[0], told

        # A CSV export through the browser: every payment, the header first.
        async with page.expect_download() as download_info:
            await page.locator("#exports").get_by_role("link", name="Payments").click()
        download = await download_info.value
        assert download.suggested_filename.startswith("vpnshop-payments-")
        content = await asyncio.to_thread(Path(await download.path()).read_text)
        exported = list(csv.DictReader(io.StringIO(content)))
        async with shop.ctx.sessions() as session:
            ids = set((await session.scalars(select(Payment.id))).all())
            assert await session.scalar(select(func.count()).select_from(Payment)) == len(exported) == 3
        assert {row["id"] for row in exported} == ids and {row["status"] for row in exported} == {"delivered"}
        await context.close()
