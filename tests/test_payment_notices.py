"""Payment messages at Telegram's pace: a burst of deliveries against a bot that gets 429s sends
each customer one access card (one message), and each operator one digest of the sales, nothing
repeated; each digest window is reported by one run only."""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from temporalio.client import Client

from bot.texts import price
from shop.messaging.pacing import telegram_queue
from shop.models import PaymentMethod
from shop.payments.service import new_payment_id, start_checkout
from tests.conftest import Database
from tests.factories import plan, subscriber
from tests.payments_env import CUSTOMERS, OPERATOR, SLOW_POLL, payment_bench
from tests.telegram_fixtures import send_queues
from workflows.sales_digest import SETTLE, SalesDigestInput, SalesDigestWorkflow, window_ending


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
            [card] = bench.telegram.messages(user)  # one message: the QR code, the card its caption
            assert "/sub/" in (card.caption or "") and card.photo is not None
        assert bench.telegram.messages(OPERATOR) == []  # no message per sale

        # The digest whose window holds the burst: one message to the operator, naming every sale.
        until = datetime.now(UTC) + timedelta(seconds=1)
        digest = SalesDigestInput(minutes=60, until=until)
        sent = await temporal_client.execute_workflow(
            SalesDigestWorkflow.run, digest, id=f"sales-digest-{task_queue}", task_queue=task_queue
        )
        assert (sent.sales, sent.operators) == (len(CUSTOMERS), 1)
        # Sent in the bot's pace, as every other message: one send on the paced queue.
        digest_run = temporal_client.get_workflow_handle(f"sales-digest-{task_queue}")
        assert await send_queues(digest_run, "deliver") == [telegram_queue(task_queue)]
        [notice] = bench.telegram.messages(OPERATOR)
        assert {pid for pid in ids.values() if pid in (notice.text or "")} == set(ids.values())
        total = sum([(await bench.payment(pid)).amount for pid in ids.values()], Decimal(0))
        heading = (notice.text or "").splitlines()[0]
        assert heading.endswith(f": {len(CUSTOMERS)}, {price(total, 'RUB')}")  # count and sum
        # The next window holds none of them: nothing more is sent.
        later = SalesDigestInput(minutes=60, until=until + timedelta(hours=1))
        sent = await temporal_client.execute_workflow(
            SalesDigestWorkflow.run, later, id=f"sales-digest-next-{task_queue}", task_queue=task_queue
        )
        assert (sent.sales, sent.operators) == (0, 0) and len(bench.telegram.messages(OPERATOR)) == 1


def test_digest_windows_tile_time_without_gaps_or_overlaps() -> None:
    start = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    windows = [window_ending(start + timedelta(minutes=10 * k), 10) for k in range(5)]
    for before, after in itertools.pairwise(windows):
        assert before.until == after.since and after.until - after.since == timedelta(minutes=10)
    # A run that starts late (the Schedule buffered it) reports the window of its scheduled time.
    assert window_ending(start + timedelta(minutes=3), 10) == windows[0]
    assert windows[0].until == start - SETTLE
