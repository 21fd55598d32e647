"""Crypto Pay: signed webhooks only, expiry found by polling, refunds from YooKassa in the ledger."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import httpx
from temporalio.client import Client

from shop.models import PaymentMethod, PaymentStatus
from shop.payments.cryptopay import SIGNATURE_HEADER, signature
from shop.payments.service import new_payment_id, start_checkout
from tests.conftest import Database
from tests.factories import plan, subscriber
from tests.payments_env import SLOW_POLL, PaymentBench, payment_bench
from workflows.refund import RefundWorkflow

FAST_POLL: dict[str, Any] = {"payment_poll_first_seconds": 1, "payment_poll_max_seconds": 1}


async def _checkout(bench: PaymentBench, method: PaymentMethod) -> str:
    await subscriber(bench.ctx.sessions, 1001)
    offer = await plan(bench.ctx.sessions)
    payment_id = new_payment_id()
    checkout = await start_checkout(bench.ctx, 1001, offer.id, method, payment_id)
    assert checkout.pay_url
    return payment_id


async def test_forged_signature_is_refused_and_changes_nothing(
    sqlite_db: Database, temporal_client: Client, task_queue: str
) -> None:
    async with payment_bench(sqlite_db, temporal_client, task_queue, **SLOW_POLL) as bench:
        payment_id = await _checkout(bench, PaymentMethod.CRYPTOPAY)
        invoice = bench.cryptopay.by_payload(payment_id)
        update = {"update_id": 1, "update_type": "invoice_paid", "payload": {**invoice, "status": "paid"}}
        raw = json.dumps(update).encode()
        calls_before = len(bench.cryptopay.calls)
        async with httpx.AsyncClient(base_url=bench.api) as http:
            forged = signature("not-the-token", raw)
            refused = await http.post("/webhooks/cryptopay", content=raw, headers={SIGNATURE_HEADER: forged})
            assert refused.status_code == 401
            unsigned = await http.post("/webhooks/cryptopay", content=raw)
            assert unsigned.status_code == 401
            # Signed over other bytes than those sent: refused too.
            tampered = await http.post(
                "/webhooks/cryptopay",
                content=raw + b" ",
                headers={SIGNATURE_HEADER: signature(bench.cryptopay.token, raw)},
            )
            assert tampered.status_code == 401
            broken = b'{"update_type": "invoice_paid"}'
            malformed = await http.post(
                "/webhooks/cryptopay",
                content=broken,
                headers={SIGNATURE_HEADER: signature(bench.cryptopay.token, broken)},
            )
            assert malformed.status_code == 400
        assert len(bench.cryptopay.calls) == calls_before  # no re-fetch was even triggered
        assert (await bench.payment(payment_id)).status is PaymentStatus.PENDING
        # The real, signed update (delivered three times, update ids repeating) delivers once.
        bench.cryptopay.webhooks.copies = 3
        bench.cryptopay.pay(invoice["invoice_id"])
        assert (await bench.result(payment_id)).stage == "delivered"
        assert [g.source_key for g in await bench.grants()] == [payment_id]


async def test_expired_invoice_is_found_by_polling(
    sqlite_db: Database, temporal_client: Client, task_queue: str
) -> None:
    async with payment_bench(sqlite_db, temporal_client, task_queue, **FAST_POLL) as bench:
        payment_id = await _checkout(bench, PaymentMethod.CRYPTOPAY)
        bench.cryptopay.advance(timedelta(hours=2))  # past expires_in; no webhook comes for this
        assert (await bench.result(payment_id)).stage == "expired"
        assert (await bench.payment(payment_id)).status is PaymentStatus.EXPIRED
        assert bench.cryptopay.webhooks.attempts == []
        assert await bench.grants() == []


async def test_yookassa_refund_shortens_access_once(
    sqlite_db: Database, temporal_client: Client, task_queue: str
) -> None:
    async with payment_bench(sqlite_db, temporal_client, task_queue, **FAST_POLL) as bench:
        payment_id = await _checkout(bench, PaymentMethod.YOOKASSA)
        provider_id = bench.yookassa.by_order(payment_id)["id"]
        bench.yookassa.pay(provider_id)
        assert (await bench.result(payment_id)).stage == "delivered"
        bench.yookassa.webhooks.copies = 2
        refund_id = bench.yookassa.refund(provider_id)
        await bench.wait_status(payment_id, PaymentStatus.REFUNDED)
        await bench.yookassa.webhooks.drain()
        grants = await bench.grants()
        assert [g.source_key for g in grants] == [payment_id, f"yookassa-refund:{refund_id}"]
        assert grants[1].duration_seconds == -grants[0].duration_seconds
        # A forged refund event naming a refund YooKassa does not have changes nothing.
        async with httpx.AsyncClient(base_url=bench.api) as http:
            forged_refund = {"id": "rf-forged", "payment_id": provider_id, "status": "succeeded"}
            fake = {"type": "notification", "event": "refund.succeeded", "object": forged_refund}
            answer = await http.post(
                "/webhooks/yookassa", json=fake, headers={"X-Forwarded-For": "185.71.77.3"}
            )
            assert answer.status_code == 200
            handle = temporal_client.get_workflow_handle_for(
                RefundWorkflow.run, "refund:yookassa-refund:rf-forged"
            )
            outcome = await handle.result()  # the re-fetch finds no such refund: nothing applied
            assert not outcome.valid and "refused" in outcome.reason
        assert len(await bench.grants()) == 2
