"""The payments test bench: our API and worker, the provider sandboxes, all over real HTTP."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from aiogram.types import LabeledPrice
from sqlalchemy import select
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from api.app import create_app
from api.server import server_options
from bot.main import build_bot, build_dispatcher
from sandbox.cryptopay import FakeCryptoPay
from sandbox.serving import serve
from sandbox.telegram import TelegramSandbox
from sandbox.yookassa import FakeYooKassa
from shop.context import AppContext
from shop.models import Grant, Payment, PaymentMethod, PaymentStatus
from shop.payments.service import new_payment_id, start_checkout
from tests.conftest import Database, make_context
from tests.factories import plan, subscriber
from worker.main import build_worker
from workflows.payment import PaymentWorkflow
from workflows.payment_messages import PaymentProgress, workflow_id


@dataclass
class PaymentBench:
    ctx: AppContext
    client: Client
    api: str
    yookassa: FakeYooKassa
    cryptopay: FakeCryptoPay
    telegram: TelegramSandbox

    async def payment(self, payment_id: str) -> Payment:
        async with self.ctx.sessions() as session:
            found = await session.get(Payment, payment_id)
        assert found is not None
        return found

    async def grants(self) -> list[Grant]:
        async with self.ctx.sessions() as session:
            return list(await session.scalars(select(Grant).order_by(Grant.id)))

    async def result(self, payment_id: str, within: float = 60) -> PaymentProgress:
        handle = self.client.get_workflow_handle_for(PaymentWorkflow.run, workflow_id(payment_id))
        async with asyncio.timeout(within):
            while True:  # a Stars payment's workflow starts only when Telegram's update is handled
                try:
                    return await handle.result()
                except RPCError as error:
                    if error.status is not RPCStatusCode.NOT_FOUND:
                        raise
                await asyncio.sleep(0.05)

    async def wait_status(self, payment_id: str, status: PaymentStatus, within: float = 30) -> None:
        async with asyncio.timeout(within):
            while True:
                if (await self.payment(payment_id)).status is status:
                    return
                await asyncio.sleep(0.05)


def settings_for(yk: FakeYooKassa, yk_url: str, cp: FakeCryptoPay, cp_url: str) -> dict[str, object]:
    return {
        "yookassa_shop_id": yk.shop_id,
        "yookassa_secret_key": yk.secret_key,
        "yookassa_api_url": f"{yk_url}/v3",
        "yookassa_receipt_email": "receipts@shop.test",
        "yookassa_test_mode": True,
        "cryptopay_token": cp.token,
        "cryptopay_api_url": f"{cp_url}/api",
        "p2p_requisites": "Card 2200 0000 0000 0000",
        "stars_enabled": True,
        "trusted_proxies": "127.0.0.1/32",
        "provider_timeout_seconds": 5.0,
    }


# Workflows that only look at the provider when a hint comes: tests decide when that is.
SLOW_POLL: dict[str, Any] = {"payment_poll_first_seconds": 600, "payment_poll_max_seconds": 600}
OPERATOR = 900
CUSTOMERS = range(1001, 1011)


@contextlib.asynccontextmanager
async def _bot(ctx: AppContext) -> AsyncIterator[None]:
    bot, dispatcher = build_bot(ctx.settings), build_dispatcher(ctx)
    polling = asyncio.create_task(dispatcher.start_polling(bot, handle_signals=False, polling_timeout=1))
    try:
        yield
    finally:
        await dispatcher.stop_polling()
        await polling
        await bot.session.close()


@contextlib.asynccontextmanager
async def payment_bench(
    database: Database, client: Client, task_queue: str, worker: bool = True, **settings: object
) -> AsyncIterator[PaymentBench]:
    """Sandboxes for YooKassa, Crypto Pay and Telegram, our API, the bot and (optionally) a worker."""
    yk, cp = FakeYooKassa(), FakeCryptoPay()
    async with (
        serve(yk.app) as yk_url,
        serve(cp.app) as cp_url,
        TelegramSandbox(webhook_retry_delay=0.05) as tg,
    ):
        tg.add_user(OPERATOR, "Operator", language_code="en")
        for customer in CUSTOMERS:
            tg.add_user(customer, f"Customer {customer}", language_code="en")
        yk.base_url = yk_url
        values = settings_for(yk, yk_url, cp, cp_url) | {
            "telegram_bot_token": tg.token,
            "telegram_api_url": tg.api_url,
            "admin_ids": str(OPERATOR),
        }
        ctx = make_context(database, client, task_queue, **(values | settings))
        async with serve(create_app(ctx), **server_options()) as api, _bot(ctx):
            yk.webhooks.url = f"{api}/webhooks/yookassa"
            cp.webhooks.url = f"{api}/webhooks/cryptopay"
            bench = PaymentBench(ctx, client, api, yk, cp, tg)
            try:
                if worker:
                    worker_bot = build_bot(ctx.settings)
                    try:
                        async with build_worker(ctx, client, bot=worker_bot):
                            yield bench
                    finally:
                        await worker_bot.session.close()
                else:
                    yield bench
            finally:
                await yk.webhooks.aclose()
                await cp.webhooks.aclose()


async def send_stars_invoice(bench: PaymentBench, user_id: int = 1001) -> str:
    """What the bot's buy flow does: mint the payment, send the XTR invoice it describes."""
    await subscriber(bench.ctx.sessions, user_id)
    offer = await plan(bench.ctx.sessions, stars=150)
    payment_id = new_payment_id()
    checkout = await start_checkout(bench.ctx, user_id, offer.id, PaymentMethod.STARS, payment_id)
    invoice = checkout.stars_invoice
    assert invoice is not None and invoice.payload == payment_id and invoice.amount == 150
    bot = build_bot(bench.ctx.settings)
    try:
        await bot.send_invoice(
            user_id, invoice.title, invoice.description, invoice.payload, invoice.currency,
            [LabeledPrice(label=invoice.title, amount=invoice.amount)],
        )  # fmt: skip
    finally:
        await bot.session.close()
    return payment_id
