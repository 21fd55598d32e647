"""Webhook mode through the API: the secret token is checked, and an update is acknowledged only after
it was handled, so a crash while handling a successful_payment makes Telegram deliver it again."""

from __future__ import annotations

import asyncio

import httpx
from aiogram import F, Router
from aiogram.types import Message
from fastapi import FastAPI
from temporalio.client import Client

from api.app import create_app
from api.telegram import SECRET_HEADER, telegram_webhook
from bot.main import WEBHOOK_PATH, build_bot, build_dispatcher, serve_webhook_mode
from sandbox.serving import serve
from sandbox.telegram import TelegramSandbox
from tests.conftest import Database, make_context

SECRET = "webhook-secret_1"


def flaky_payments() -> tuple[Router, list[str]]:
    """A payments handler that crashes on its first delivery, as a process dying mid-update would."""
    router, recorded = Router(name="flaky-payments"), []

    @router.message(F.successful_payment)
    async def paid(message: Message) -> None:
        assert message.successful_payment is not None
        recorded.append(message.successful_payment.telegram_payment_charge_id)
        if len(recorded) == 1:
            raise RuntimeError("crashed before the payment was recorded")

    return router, recorded


def payment_update(charge_id: str) -> dict[str, object]:
    paid = {
        "currency": "XTR",
        "total_amount": 1,
        "invoice_payload": "p",
        "telegram_payment_charge_id": charge_id,
    }
    message = {
        "message_id": 1,
        "date": 0,
        "chat": {"id": 51, "type": "private"},
        "from": {"id": 51, "is_bot": False, "first_name": "X"},
        "successful_payment": paid,
    }
    return {"update_id": 999, "message": message}


async def test_webhook_acknowledges_only_handled_updates(
    sqlite_db: Database, temporal_client: Client, task_queue: str
) -> None:
    async with TelegramSandbox(webhook_retry_delay=0.05) as tg:
        tg.add_user(51, "Dora", language_code="en")
        ctx = make_context(
            sqlite_db, temporal_client, task_queue, telegram_bot_token=tg.token, telegram_api_url=tg.api_url,
            bot_mode="webhook", telegram_webhook_secret=SECRET,
        )  # fmt: skip
        payments, recorded = flaky_payments()
        dispatcher = build_dispatcher(ctx, extra_routers=(payments,))
        app = FastAPI()
        app.include_router(telegram_webhook(ctx, dispatcher))
        async with serve(app) as base:
            stop = asyncio.Event()
            settings = ctx.settings.model_copy(update={"public_base_url": base})
            bot = build_bot(settings)
            registering = asyncio.create_task(serve_webhook_mode(bot, dispatcher, settings, stop))
            await tg.wait_for(lambda: tg.world.webhook.get("url"))
            assert tg.world.webhook == {"url": base + WEBHOOK_PATH, "secret_token": SECRET}
            # Stars need pre-checkout queries: the payments router asks for them.
            assert "pre_checkout_query" in (tg.world.allowed_updates or [])
            assert "callback_query" in (tg.world.allowed_updates or [])

            await tg.send_text(51, "/start")
            await tg.settle()
            assert tg.messages(51)[0].text == "👋 Welcome to vpnshop, Dora!"

            charge = await tg.successful_payment(51, "payment-1", 150)
            await tg.settle()
            assert recorded == [charge.id, charge.id]
            statuses = [status for _, status in tg.webhook_deliveries[-2:]]
            assert statuses == ["Wrong response from the webhook: 500 Internal Server Error", 200]

            forged = payment_update("forged")
            url = base + WEBHOOK_PATH
            async with httpx.AsyncClient() as client:
                wrong = await client.post(url, json=forged, headers={SECRET_HEADER: "wrong"})
                missing = await client.post(url, json=forged)
                garbage = await client.post(url, content=b"{", headers={SECRET_HEADER: SECRET})
            assert (wrong.status_code, missing.status_code, garbage.status_code) == (403, 403, 400)
            assert "forged" not in recorded
            stop.set()
            await registering


async def test_the_api_serves_the_webhook_only_in_webhook_mode(sqlite_db: Database, task_queue: str) -> None:
    polling = make_context(sqlite_db, None, task_queue, telegram_bot_token="1:x")
    webhook = make_context(sqlite_db, None, task_queue, telegram_bot_token="1:x", bot_mode="webhook",
                           telegram_webhook_secret=SECRET)  # fmt: skip
    answers = []
    for ctx in (polling, webhook):
        transport = httpx.ASGITransport(app=create_app(ctx))
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            answers.append((await client.post(WEBHOOK_PATH, json=payment_update("x"))).status_code)
    assert answers == [404, 403]
