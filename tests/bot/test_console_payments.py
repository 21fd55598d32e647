"""Payments in the console, in Chromium, with the shop's bot running against the Telegram sandbox:
an operator resolves a payment in review (delivered anyway: the customer gets the card; a second
resolution counts for nothing); a YooKassa payment in review refunded at the provider once, whatever
retries and double submits; a P2P transfer approved in the console while a second operator
approves it in the bot at the same moment: exactly one decision counts."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from playwright.async_api import Browser
from sqlalchemy import func, select

from api.app import create_app
from sandbox.serving import serve
from shop.models import Grant, PaymentMethod, PaymentStatus
from shop.operators import audit
from shop.operators.audit import Actor
from shop.payments import decisions, timeline
from shop.payments.decisions import PaymentDesk
from shop.payments.service import new_payment_id, record_payment
from shop.payments.status import transition
from tests.bot.conftest import ADMIN_ID, OpenShop
from tests.bot.kit import Shop
from tests.bot.test_p2p import status, transfer_screen
from tests.console_browser import form_values, signed_in_page
from tests.factories import plan
from workflows.operator import ResolveReviewWorkflow, resolution_workflow_id
from workflows.refund import RefundWorkflow, refund_workflow_id

pytestmark = pytest.mark.browser
CONSOLE_OPERATOR = 901


async def grants(shop: Shop) -> int:
    async with shop.ctx.sessions() as session:
        return await session.scalar(select(func.count()).select_from(Grant)) or 0


async def wait_status(shop: Shop, payment_id: str, wanted: PaymentStatus) -> None:
    async with asyncio.timeout(30):
        while await status(shop, payment_id) is not wanted:  # noqa: ASYNC110 - another process writes it
            await asyncio.sleep(0.1)


async def test_resolve_a_payment_in_review(shop_with: OpenShop, browser: Browser) -> None:
    async with shop_with(providers=True) as shop, serve(create_app(shop.ctx)) as base:
        rita = await shop.started(23, "Рита")
        offer = await plan(shop.ctx.sessions, "Месяц", 30, "199")
        owner = await shop.ctx.storefront.current()
        payment = await record_payment(
            shop.ctx.sessions, owner, new_payment_id(), 23, offer.id, PaymentMethod.YOOKASSA
        )
        await transition(
            shop.ctx.sessions, payment.id, PaymentStatus.REVIEW, review_reason="amount 100 != 199"
        )
        page = await signed_in_page(browser, shop.ctx, base, ADMIN_ID)
        await page.goto(f"{base}/console/payments?status=review")
        assert await page.locator("#payments tr[data-payment]").count() == 1
        await page.locator(f'#payments tr[data-payment="{payment.id}"] a').first.click()
        assert await page.locator("#reason").inner_text() == "amount 100 != 199"

        await page.select_option("#resolution", "deliver")
        await page.locator("#action-resolve button").click()  # no reason: refused, nothing done
        assert await page.locator("#reason-error").inner_text() == "Required."
        assert await status(shop, payment.id) is PaymentStatus.REVIEW

        await page.fill("#resolve-reason", "the customer paid the rest by card")
        second = {**(await form_values(page, "#action-resolve")), "resolution": "close"}
        await page.locator("#action-resolve button").click()
        await page.get_by_text("Resolution started.").wait_for()
        await wait_status(shop, payment.id, PaymentStatus.DELIVERED)
        await shop.tg.wait_for(lambda: any(m.photo for m in rita.messages), 30)  # the access card

        # Another operator's "close" after that: already decided, nothing changes.
        late = await page.request.post(f"{base}/console/payments/{payment.id}/resolve", form=second)
        assert late.ok and late.url.endswith("?done=done_payment_already_decided")
        assert await status(shop, payment.id) is PaymentStatus.DELIVERED and await grants(shop) == 1
        entries = [e for e in (await audit.entries(shop.ctx.sessions))[0] if e.action == "payment.resolve"]
        assert [(e.actor_id, e.reason, (e.after or {}).get("resolution")) for e in entries] == [
            (ADMIN_ID, "the customer paid the rest by card", "deliver")
        ]
        await page.goto(f"{base}/console/payments/{payment.id}")
        steps = await page.locator("#timeline").inner_text()
        assert "review resolved: deliver" in steps and "close refused: no longer in review" in steps
        assert "review → succeeded" in steps and "succeeded → delivered" in steps

        # Two operators resolve another payment in review at the same moment: one decision counts.
        other = await record_payment(
            shop.ctx.sessions, owner, new_payment_id(), 23, offer.id, PaymentMethod.YOOKASSA
        )
        await transition(shop.ctx.sessions, other.id, PaymentStatus.REVIEW, review_reason="late")
        first, second_desk = (PaymentDesk(shop.ctx, Actor(who, "console")) for who in (ADMIN_ID, 902))
        results = await asyncio.gather(
            first.resolve(other.id, "deliver", "paid"), second_desk.resolve(other.id, "close", "not paid")
        )
        assert sorted(results) == [False, True]
        await wait_status(shop, other.id, PaymentStatus.DELIVERED if results[0] else PaymentStatus.CANCELED)
        assert await grants(shop) == (2 if results[0] else 1)


async def paid_at_yookassa(shop: Shop, value: str) -> str:
    """A succeeded payment in the YooKassa sandbox, made through its API as our client makes one."""
    yk = shop.yookassa
    body = {
        "amount": {"value": value, "currency": "RUB"},
        "confirmation": {"type": "redirect", "return_url": "https://shop.test/back"},
        "receipt": {"customer": {"email": "r@shop.test"}, "items": [{"description": "Месяц"}]},
    }
    async with httpx.AsyncClient(base_url=yk.base_url, auth=(yk.shop_id, yk.secret_key)) as http:
        created = await http.post("/v3/payments", json=body, headers={"Idempotence-Key": new_payment_id()})
    provider_id = str(created.raise_for_status().json()["id"])
    yk.pay(provider_id)
    return provider_id


async def test_refund_a_yookassa_payment_in_review_once(shop_with: OpenShop) -> None:
    async with shop_with(providers=True) as shop:
        await shop.started(23, "Рита")
        offer = await plan(shop.ctx.sessions, "Месяц", 30, "199")
        owner = await shop.ctx.storefront.current()
        payment = await record_payment(
            shop.ctx.sessions, owner, new_payment_id(), 23, offer.id, PaymentMethod.YOOKASSA
        )
        provider_id = await paid_at_yookassa(shop, "199.00")
        await transition(
            shop.ctx.sessions,
            payment.id,
            PaymentStatus.REVIEW,
            provider_payment_id=provider_id,
            review_reason="paid twice",
        )
        assert (await decisions.page(shop.ctx, payment.id)).refundable  # type: ignore[union-attr]
        # The provider makes the refund but the answer is lost (HTTP 500): the activity retries.
        shop.yookassa.faults.append((500, True))
        desks = [PaymentDesk(shop.ctx, Actor(ADMIN_ID, "console")) for _ in range(2)]
        submits = await asyncio.gather(*(d.resolve(payment.id, "refund", "paid twice") for d in desks))
        assert sorted(submits) == [False, True]  # the form sent twice: one resolution
        temporal = shop.ctx.require_temporal()
        handle = temporal.get_workflow_handle_for(
            ResolveReviewWorkflow.run, resolution_workflow_id(payment.id)
        )
        assert (await handle.result()).status is PaymentStatus.REFUNDED
        assert await status(shop, payment.id) is PaymentStatus.REFUNDED

        refunds = [r for r in shop.yookassa.refunds.values() if r["payment_id"] == provider_id]
        assert [(r["amount"]["value"], r["status"]) for r in refunds] == [("199.00", "succeeded")]
        posts = [c for c in shop.yookassa.calls if c == "POST /v3/refunds"]
        assert len(posts) == 2  # the retry reached YooKassa and got the first refund back
        assert shop.yookassa.payments[provider_id]["refundable"] is False
        assert shop.yookassa.refunds[refunds[0]["id"]]["description"] == f"refund review-refund:{payment.id}"

        # YooKassa's refund.succeeded comes back to our webhook: nothing was granted, none taken back.
        await shop.yookassa.webhooks.drain()
        refund_id = refund_workflow_id(f"yookassa-refund:{refunds[0]['id']}")
        plan_seen = await temporal.get_workflow_handle_for(RefundWorkflow.run, refund_id).result()
        assert not plan_seen.valid and await grants(shop) == 0
        assert await status(shop, payment.id) is PaymentStatus.REFUNDED
        steps = [(e.kind, e.detail) for e in await timeline.events(shop.ctx.sessions, payment.id)]
        done = [d for k, d in steps if k == "refund" and d.startswith("refunded at the provider")]
        assert done == [f"refunded at the provider: 199.00 RUB (succeeded), {refunds[0]['id']}"]
        assert any("review resolved: refund (paid twice)" in d for _k, d in steps)
        assert any("refund refused: already decided" in d for _k, d in steps)


async def test_console_and_bot_approve_one_transfer_at_once(shop_with: OpenShop, browser: Browser) -> None:
    admins = f"{ADMIN_ID},{CONSOLE_OPERATOR}"
    async with shop_with(providers=True, admin_ids=admins) as shop, serve(create_app(shop.ctx)) as base:
        boss = await shop.started(ADMIN_ID, "Boss", "en")
        await plan(shop.ctx.sessions, "Месяц", 30, "199")
        rita = await shop.started(23, "Рита")
        payment_id = await transfer_screen(rita, "Оплатить", "Месяц", "Перевод на карту")
        await rita.taps("Я оплатил")
        notices = await shop.tg.wait_for(lambda: [m for m in boss.messages if payment_id in (m.text or "")])
        page = await signed_in_page(browser, shop.ctx, base, CONSOLE_OPERATOR)
        await page.goto(f"{base}/console/payments?status=p2p_waiting")
        await page.locator(f'#payments tr[data-payment="{payment_id}"] a').first.click()
        approve = page.locator("#action-transfer-1 button")
        await approve.wait_for()

        async def in_console() -> str:
            await approve.click()
            await page.locator("p.flash").wait_for()
            return await page.locator("p.flash").inner_text()

        in_bot, console_said = await asyncio.gather(boss.taps("Approve", on=notices[-1]), in_console())
        assert in_bot is not None
        saved = [in_bot.text == "Decision saved.", console_said == "Transfer approved."]
        assert sorted(saved) == [False, True], (in_bot.text, console_said)  # exactly one counted
        assert in_bot.text in ("Decision saved.", "This payment was already decided.")
        assert console_said in (
            "Transfer approved.",
            "Already decided by another operator (or no longer waiting): nothing changed.",
        )

        await wait_status(shop, payment_id, PaymentStatus.DELIVERED)
        assert await grants(shop) == 1
        [counted] = [e for e in (await audit.entries(shop.ctx.sessions))[0] if e.action == "payment.approve"]
        assert counted.actor_id == (ADMIN_ID if saved[0] else CONSOLE_OPERATOR)
        assert counted.channel == ("bot" if saved[0] else "console")
        decisions = [
            e.detail for e in await timeline.events(shop.ctx.sessions, payment_id) if e.kind == "operator"
        ]
        winner, loser = ("bot", "console") if saved[0] else ("console", "bot")
        assert sorted(decisions) == sorted(
            [f"transfer approved ({winner})", f"approved ({loser}) refused: already decided"]
        )
