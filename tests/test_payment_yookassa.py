"""YooKassa end to end: checkout, webhook as a hint, re-fetch, verification, delivery."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import func, select
from temporalio import client as client_interceptors
from temporalio.client import Client

from shop.models import Grant, Payment, PaymentMethod, PaymentStatus, Subscription
from shop.payments.service import new_payment_id, start_checkout
from shop.payments.timeline import EventKind, events
from tests.conftest import Database
from tests.factories import plan, subscriber
from tests.payments_env import OPERATOR, SLOW_POLL, PaymentBench, payment_bench
from tests.qr import qr_text
from workflows.payment import PaymentWorkflow
from workflows.payment_messages import ProviderHint, workflow_id


async def _grants(bench: PaymentBench) -> int:
    async with bench.ctx.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Grant)) or 0)


async def _checkout(bench: PaymentBench, user_id: int = 1001) -> tuple[str, str]:
    await subscriber(bench.ctx.sessions, user_id)
    offer = await plan(bench.ctx.sessions)
    payment_id = new_payment_id()
    first, second = await asyncio.gather(
        start_checkout(bench.ctx, user_id, offer.id, PaymentMethod.YOOKASSA, payment_id),
        start_checkout(bench.ctx, user_id, offer.id, PaymentMethod.YOOKASSA, payment_id),
    )
    assert first.pay_url and first.pay_url == second.pay_url
    return payment_id, first.pay_url.rsplit("/", 1)[-1]


async def test_paid_payment_is_delivered_once(db: Database, temporal_client: Client, task_queue: str) -> None:
    async with payment_bench(db, temporal_client, task_queue, **SLOW_POLL) as bench:
        payment_id, provider_id = await _checkout(bench)
        assert len(bench.yookassa.payments) == 1  # the double click made one provider payment
        created = bench.yookassa.payments[provider_id]
        assert created["metadata"]["order_id"] == payment_id
        assert created["amount"] == {"value": "299.00", "currency": "RUB"}
        bench.yookassa.webhooks.copies = 3
        bench.yookassa.pay(provider_id)
        progress = await bench.result(payment_id)
        assert progress.stage == "delivered"
        stored = await bench.payment(payment_id)
        assert stored.status is PaymentStatus.DELIVERED and stored.delivered_at is not None
        async with bench.ctx.sessions() as session:
            grant = await session.scalar(select(Grant).where(Grant.source_key == payment_id))
            sub = await session.scalar(select(Subscription).where(Subscription.user_id == 1001))
        assert grant is not None and sub is not None and sub.expires_at is not None
        assert abs(sub.expires_at - (datetime.now(UTC) + timedelta(days=30))) < timedelta(minutes=1)
        [card] = await bench.telegram.wait_for(lambda: bench.telegram.messages(1001))  # one message
        assert f"/sub/{sub.token}" in (card.caption or "") and card.photo is not None
        assert qr_text(card.photo) == f"{bench.ctx.settings.base_url}/sub/{sub.token}"  # scans as the link
        assert bench.telegram.messages(OPERATOR) == []  # the sale goes into the operators' digest
        await bench.yookassa.webhooks.drain()
        # A duplicate long after the workflow closed: 200, nothing started, nothing granted.
        run_id = (await temporal_client.get_workflow_handle(workflow_id(payment_id)).describe()).run_id
        bench.yookassa.notify("payment.succeeded", bench.yookassa.payments[provider_id])
        await bench.yookassa.webhooks.drain()
        assert bench.yookassa.webhooks.attempts[-1].status == 200
        described = await temporal_client.get_workflow_handle(workflow_id(payment_id)).describe()
        assert described.run_id == run_id
        assert await _grants(bench) == 1


async def test_webhook_from_a_foreign_address_is_refused(
    sqlite_db: Database, temporal_client: Client, task_queue: str
) -> None:
    async with payment_bench(sqlite_db, temporal_client, task_queue, **SLOW_POLL) as bench:
        payment_id, provider_id = await _checkout(bench)
        paid_looking = {**bench.yookassa.payments[provider_id], "status": "succeeded", "paid": True}
        forged = {"type": "notification", "event": "payment.succeeded", "object": paid_looking}
        async with httpx.AsyncClient(base_url=bench.api) as http:
            refused = await http.post(
                "/webhooks/yookassa", json=forged, headers={"X-Forwarded-For": "203.0.113.7"}
            )
            assert refused.status_code == 403
            # From an allowed address the forged body is only a hint: the re-fetch says pending.
            hinted = await http.post(
                "/webhooks/yookassa", json=forged, headers={"X-Forwarded-For": "185.71.76.9"}
            )
            assert hinted.status_code == 200
            malformed = await http.post(
                "/webhooks/yookassa", content=b"{not json", headers={"X-Forwarded-For": "185.71.76.9"}
            )
            assert malformed.status_code == 400
            other = {"type": "notification", "event": "payout.succeeded", "object": {"id": "po-1"}}
            ignored = await http.post(
                "/webhooks/yookassa", json=other, headers={"X-Forwarded-For": "::ffff:185.71.76.9"}
            )
            assert ignored.status_code == 200 and ignored.json()["detail"] == "ignored"
        handle = temporal_client.get_workflow_handle_for(PaymentWorkflow.run, workflow_id(payment_id))
        for _ in range(50):  # let the hint's re-fetch happen
            if bench.yookassa.calls.count(f"GET /v3/payments/{provider_id}") >= 1:
                break
            await asyncio.sleep(0.05)
        assert bench.yookassa.calls.count(f"GET /v3/payments/{provider_id}") == 1
        progress = await handle.query(PaymentWorkflow.progress)
        assert progress.stage == "waiting" and progress.status is PaymentStatus.PENDING
        assert (await bench.payment(payment_id)).status is PaymentStatus.PENDING
        assert await _grants(bench) == 0
        await handle.terminate("test over")


async def test_amount_mismatch_goes_to_review_not_delivery(
    sqlite_db: Database, temporal_client: Client, task_queue: str
) -> None:
    async with payment_bench(sqlite_db, temporal_client, task_queue, **SLOW_POLL) as bench:
        payment_id, provider_id = await _checkout(bench)
        bench.yookassa.payments[provider_id]["amount"] = {"value": "2.99", "currency": "RUB"}
        bench.yookassa.pay(provider_id)
        progress = await bench.result(payment_id)
        assert progress.stage == "review"
        stored = await bench.payment(payment_id)
        assert stored.status is PaymentStatus.REVIEW
        assert stored.review_reason and "amount 2.99 != 299.00" in stored.review_reason
        assert await _grants(bench) == 0
        told = await bench.telegram.wait_for(lambda: bench.telegram.messages(OPERATOR))
        assert payment_id in (told[-1].text or "") and "amount 2.99 != 299.00" in (told[-1].text or "")


async def test_currency_mismatch_goes_to_review(
    sqlite_db: Database, temporal_client: Client, task_queue: str
) -> None:
    async with payment_bench(sqlite_db, temporal_client, task_queue, **SLOW_POLL) as bench:
        payment_id, provider_id = await _checkout(bench)
        bench.yookassa.payments[provider_id]["amount"] = {"value": "299.00", "currency": "USD"}
        bench.yookassa.pay(provider_id)
        assert (await bench.result(payment_id)).stage == "review"
        stored = await bench.payment(payment_id)
        assert stored.review_reason and "currency USD != RUB" in stored.review_reason
        assert await _grants(bench) == 0


async def test_canceled_payment_is_not_delivered(
    sqlite_db: Database, temporal_client: Client, task_queue: str
) -> None:
    async with payment_bench(sqlite_db, temporal_client, task_queue, **SLOW_POLL) as bench:
        payment_id, provider_id = await _checkout(bench)
        bench.yookassa.expire(provider_id)
        assert (await bench.result(payment_id)).stage == "canceled"
        stored = await bench.payment(payment_id)
        assert stored.status is PaymentStatus.CANCELED and stored.review_reason == "expired_on_confirmation"
        assert await _grants(bench) == 0


async def test_provider_outage_during_create_makes_one_payment(
    sqlite_db: Database, temporal_client: Client, task_queue: str
) -> None:
    async with payment_bench(sqlite_db, temporal_client, task_queue, **SLOW_POLL) as bench:
        # The create succeeds at YooKassa but the answer is a 500: the retry, with the same
        # Idempotence-Key, must get the same payment back.
        bench.yookassa.faults = [(500, True), (503, False)]
        payment_id, provider_id = await _checkout(bench)
        assert len(bench.yookassa.payments) == 1
        assert (await bench.payment(payment_id)).provider_payment_id == provider_id
        bench.yookassa.pay(provider_id)
        assert (await bench.result(payment_id)).stage == "delivered"


async def test_a_webhook_before_the_wait_starts_is_not_lost(
    sqlite_db: Database, temporal_client: Client, task_queue: str
) -> None:
    """The customer pays while the create call is still being retried: the hint arrives before the
    workflow starts waiting. Polling is 600 s away here, so only a counted hint delivers in time."""
    async with payment_bench(sqlite_db, temporal_client, task_queue, **SLOW_POLL) as bench:
        bench.yookassa.faults = [(500, True)]  # created at YooKassa, the answer lost: a retry in ~1 s
        await subscriber(bench.ctx.sessions, 1001)
        offer = await plan(bench.ctx.sessions)
        payment_id = new_payment_id()
        checkout = asyncio.create_task(
            start_checkout(bench.ctx, 1001, offer.id, PaymentMethod.YOOKASSA, payment_id)
        )
        [provider_id] = await bench.telegram.wait_for(lambda: list(bench.yookassa.payments), 10)
        bench.yookassa.pay(provider_id)  # the webhook goes out while the create is retried
        await bench.yookassa.webhooks.drain()
        assert bench.yookassa.webhooks.attempts[-1].status == 200
        await checkout
        assert (await bench.result(payment_id, within=30)).stage == "delivered"


class _CountingCalls(client_interceptors.Interceptor):
    """Records every call the shop's Temporal client makes that reaches a workflow."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def intercept_client(self, next: client_interceptors.OutboundInterceptor) -> _Outbound:
        return _Outbound(next, self.calls)


class _Outbound(client_interceptors.OutboundInterceptor):
    def __init__(self, next: client_interceptors.OutboundInterceptor, calls: list[str]) -> None:
        super().__init__(next)
        self.calls = calls

    async def start_workflow(self, input: Any) -> Any:
        self.calls.append(f"start {input.id} signal={input.start_signal}")
        return await super().start_workflow(input)

    async def signal_workflow(self, input: Any) -> None:
        self.calls.append(f"signal {input.id}")
        await super().signal_workflow(input)

    async def start_workflow_update(self, input: Any) -> Any:
        self.calls.append(f"update {input.id}")
        return await super().start_workflow_update(input)

    async def describe_workflow(self, input: Any) -> Any:
        self.calls.append(f"describe {input.id}")
        return await super().describe_workflow(input)


def _counted(client: Client) -> tuple[_CountingCalls, Client]:
    """A client on the same connection whose Temporal calls are written down."""
    counter = _CountingCalls()
    config = client.config()
    config["interceptors"] = [counter]
    return counter, Client(**config)


async def test_a_duplicate_webhook_of_a_closed_payment_makes_no_temporal_call(
    sqlite_db: Database, temporal_client: Client, task_queue: str
) -> None:
    counter, counted = _counted(temporal_client)
    async with payment_bench(sqlite_db, counted, task_queue, **SLOW_POLL) as bench:
        payment_id, provider_id = await _checkout(bench)
        counter.calls.clear()
        bench.yookassa.pay(provider_id)
        await bench.yookassa.webhooks.drain()
        # An open payment's hint is one signal-with-start, nothing more.
        assert counter.calls == [f"start payment:{payment_id} signal=check_provider"]
        assert (await bench.result(payment_id)).stage == "delivered"

        counter.calls.clear()
        bench.yookassa.webhooks.copies = 5
        bench.yookassa.notify("payment.succeeded", bench.yookassa.payments[provider_id])
        await bench.yookassa.webhooks.drain()
        assert [a.status for a in bench.yookassa.webhooks.attempts[-5:]] == [200] * 5
        assert counter.calls == []  # answered from the shop's own records


async def test_copies_of_an_open_payments_webhook_make_one_signal(
    sqlite_db: Database, temporal_client: Client, task_queue: str
) -> None:
    """Five copies of one event at once, for a payment still open: one lookup, one timeline line and
    one signal-with-start, and every copy is answered 200."""
    counter, counted = _counted(temporal_client)
    async with payment_bench(sqlite_db, counted, task_queue, **SLOW_POLL) as bench:
        payment_id, provider_id = await _checkout(bench)
        counter.calls.clear()
        bench.yookassa.webhooks.copies = 5
        bench.yookassa.notify("payment.waiting_for_capture", bench.yookassa.payments[provider_id])
        await bench.yookassa.webhooks.drain()
        assert [a.status for a in bench.yookassa.webhooks.attempts[-5:]] == [200] * 5
        assert counter.calls == [f"start payment:{payment_id} signal=check_provider"]
        lines = [e for e in await events(bench.ctx.sessions, payment_id) if e.kind == EventKind.WEBHOOK]
        assert len(lines) == 1

        bench.yookassa.webhooks.copies = 1
        bench.yookassa.pay(provider_id)  # another event: it goes through
        await bench.yookassa.webhooks.drain()
        assert counter.calls[1:] == [f"start payment:{payment_id} signal=check_provider"]
        assert (await bench.result(payment_id)).stage == "delivered"


async def test_a_refused_paid_step_sends_the_payment_to_review_not_a_failed_run(
    db: Database, temporal_client: Client, task_queue: str
) -> None:
    """Money taken for an order another writer closed meanwhile: `record_paid` refuses the move
    (a non-retryable failure of a local step), and the run hands it to a human instead of failing."""
    async with payment_bench(db, temporal_client, task_queue, **SLOW_POLL) as bench:
        payment_id, provider_id = await _checkout(bench)
        async with bench.ctx.sessions() as session, session.begin():
            stored = await session.get(Payment, payment_id)
            assert stored is not None
            stored.status = PaymentStatus.CANCELED
        bench.yookassa.webhooks.lose = True  # the webhook of a closed payment is answered unheard
        bench.yookassa.pay(provider_id)
        run = temporal_client.get_workflow_handle_for(PaymentWorkflow.run, workflow_id(payment_id))
        await run.signal(PaymentWorkflow.check_provider, ProviderHint(source="test"))  # as a poll would
        progress = await bench.result(payment_id)
        assert progress.stage == "review" and "delivery failed" in progress.detail
        assert (await bench.payment(payment_id)).status is PaymentStatus.REVIEW
        assert await _grants(bench) == 0
        await bench.telegram.wait_for(lambda: bench.telegram.messages(OPERATOR))  # a human is asked


async def test_a_flood_of_hints_for_a_pending_payment_shares_the_provider_checks(
    db: Database, temporal_client: Client, task_queue: str
) -> None:
    """Twenty hints over two seconds for a payment still pending: the first is checked at once,
    the others within a second of a check share the next one; the payment is delivered after."""
    async with payment_bench(db, temporal_client, task_queue, **SLOW_POLL) as bench:
        payment_id, provider_id = await _checkout(bench)
        fetch = f"GET /v3/payments/{provider_id}"
        before = bench.yookassa.calls.count(fetch)
        # Straight to the run (as the sweeper and the bot hint): the API would merge copies of one
        # webhook event before they reach it (the next test).
        run = temporal_client.get_workflow_handle_for(PaymentWorkflow.run, workflow_id(payment_id))
        for _ in range(20):
            await run.signal(PaymentWorkflow.check_provider, ProviderHint(source="test"))
            await asyncio.sleep(0.1)
        await asyncio.sleep(1.5)  # the last shared check
        checks = bench.yookassa.calls.count(fetch) - before
        assert 2 <= checks <= 5, checks  # one per second of hints, not one per hint
        bench.yookassa.pay(provider_id)
        assert (await bench.result(payment_id)).stage == "delivered"
