"""The YooKassa sandbox's `POST /v3/refunds` driven by the official `yookassa` SDK (its HTTP, its
parsing, its errors): a refund, the same key again (the original refund, no second one), a refund
beyond what is left, one of an unknown payment and one without the receipt a fiscalised payment
needs (refused the way YooKassa refuses)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from yookassa import Configuration, Payment, Refund
from yookassa.domain.exceptions import BadRequestError, NotFoundError

from sandbox.serving import serve
from sandbox.yookassa import FakeYooKassa


def refund_params(payment_id: str, value: str) -> dict[str, Any]:
    return {"payment_id": payment_id, "amount": {"value": value, "currency": "RUB"}, "description": "sdk"}


def payment_params() -> dict[str, Any]:
    return {
        "amount": {"value": "199.00", "currency": "RUB"},
        "capture": True,
        "confirmation": {"type": "redirect", "return_url": "https://shop.test/back"},
        "description": "Месяц",
    }


async def sdk(call: Callable[[], Any]) -> Any:
    return await asyncio.to_thread(call)  # the SDK blocks (requests); the sandbox runs in this loop


async def test_refunds_through_the_official_sdk() -> None:
    yk = FakeYooKassa()
    yk.require_receipt = False
    yk.webhooks.url, yk.webhooks.hold = "http://127.0.0.1:9/unused", True  # kept to be looked at
    async with serve(yk.app) as base:
        Configuration.configure(yk.shop_id, yk.secret_key, api_url=f"{base}/v3", max_attempts=1)
        created = await sdk(lambda: Payment.create(payment_params(), str(uuid.uuid4())))
        with pytest.raises(BadRequestError):  # not paid yet: nothing to give back
            await sdk(lambda: Refund.create(refund_params(created.id, "199.00"), str(uuid.uuid4())))
        yk.pay(created.id)
        key = str(uuid.uuid4())
        first = await sdk(lambda: Refund.create(refund_params(created.id, "150.00"), key))
        assert (first.status, first.payment_id, first.amount.value) == ("succeeded", created.id, 150.0)
        again = await sdk(lambda: Refund.create(refund_params(created.id, "150.00"), key))
        assert again.id == first.id and list(yk.refunds) == [first.id]  # one refund, not two

        with pytest.raises(BadRequestError) as over:  # 49.00 left
            await sdk(lambda: Refund.create(refund_params(created.id, "50.00"), str(uuid.uuid4())))
        assert over.value.args[0]["parameter"] == "amount.value"
        with pytest.raises(BadRequestError):  # the same key, another body
            await sdk(lambda: Refund.create(refund_params(created.id, "10.00"), key))
        with pytest.raises(NotFoundError):
            await sdk(lambda: Refund.create(refund_params(str(uuid.uuid4()), "1.00"), str(uuid.uuid4())))
        rest = await sdk(lambda: Refund.create(refund_params(created.id, "49.00"), str(uuid.uuid4())))
        paid = await sdk(lambda: Payment.find_one(created.id))
        assert (paid.refunded_amount.value, paid.refundable) == (199.0, False)
        assert len(yk.refunds) == 2 and (await sdk(lambda: Refund.find_one(rest.id))).amount.value == 49.0

        # A fiscalised payment (the shop's setting): its refund needs a receipt as the payment did.
        yk.require_receipt = True
        item = {"description": "Месяц", "quantity": "1.00", "amount": {"value": "199.00", "currency": "RUB"}}
        receipt = {"customer": {"email": "r@shop.test"}, "items": [item | {"vat_code": 1}]}
        fiscal = await sdk(lambda: Payment.create(payment_params() | {"receipt": receipt}, str(uuid.uuid4())))
        yk.pay(fiscal.id)
        with pytest.raises(BadRequestError) as bare:
            await sdk(lambda: Refund.create(refund_params(fiscal.id, "199.00"), str(uuid.uuid4())))
        assert bare.value.args[0]["parameter"] == "receipt"
        with_receipt = refund_params(fiscal.id, "199.00") | {"receipt": receipt}
        assert (await sdk(lambda: Refund.create(with_receipt, str(uuid.uuid4())))).status == "succeeded"

    events = [json.loads(body) for body, _headers in yk.webhooks.held]
    refunds = [e["object"]["id"] for e in events if e["event"] == "refund.succeeded"]
    assert refunds[:2] == [first.id, rest.id] and len(refunds) == 3  # none for the repeat
