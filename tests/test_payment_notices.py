"""Payment messages at Telegram's pace: a burst of deliveries against a bot that gets 429s sends
each customer one access card and each operator one notice per payment, nothing repeated."""

from __future__ import annotations

import asyncio

from temporalio.client import Client

from shop.models import PaymentMethod
from shop.payments.service import new_payment_id, start_checkout
from tests.conftest import Database
from tests.factories import plan, subscriber
from tests.payments_env import CUSTOMERS, OPERATOR, SLOW_POLL, payment_bench


async def test_a_burst_of_deliveries_under_429s_sends_each_message_once(
    sqlite_db: Database, temporal_client: Client, task_queue: str
) -> None:
    async with payment_bench(sqlite_db, temporal_client, task_queue, **SLOW_POLL) as bench:
        offer = await plan(bench.ctx.sessions)
        ids = {}
        for user in CUSTOMERS:
            await subscriber(bench.ctx.sessions, user)
            ids[user] = new_payment_id()
            await start_checkout(bench.ctx, user, offer.id, PaymentMethod.YOOKASSA, ids[user])
        # Far below the worker's own pace (28/s), and a flood wait on top: every burst gets 429s.
        bench.telegram.set_rate_limit(3)
        bench.telegram.flood_wait(after=4, seconds=2)
        for provider_id in list(bench.yookassa.payments):
            bench.yookassa.pay(provider_id)
        results = await asyncio.gather(*(bench.result(pid, within=120) for pid in ids.values()))
        assert {r.stage for r in results} == {"delivered"}
        # A payment's workflow returns after its notices went out: nothing more can come.
        chats = {*CUSTOMERS, OPERATOR}
        attempts = [
            call
            for method in ("sendMessage", "sendPhoto")
            for call in bench.telegram.calls(method)
            if int(call["chat_id"]) in chats
        ]
        delivered = sum(len(bench.telegram.messages(chat)) for chat in chats)
        assert len(attempts) > delivered  # the sandbox did answer 429s
        for user in CUSTOMERS:
            card, qr = bench.telegram.messages(user)
            assert "/sub/" in (card.text or "") and qr.photo is not None
        notices = bench.telegram.messages(OPERATOR)
        assert len(notices) == len(CUSTOMERS)
        told = {pid for pid in ids.values() for notice in notices if pid in (notice.text or "")}
        assert told == set(ids.values())
