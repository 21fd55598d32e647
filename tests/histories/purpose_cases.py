"""Recorded runs of payments that buy no days for their payer: a top-up by card (money on the
balance) and a gift paid from that balance (a gift code), both through the patched delivery."""

from __future__ import annotations

from decimal import Decimal

from shop.balance import ledger
from shop.models import PaymentMethod, PaymentPurpose
from shop.payments.service import new_payment_id, record_payment, start_checkout
from tests.factories import plan, subscriber
from tests.histories.payment_cases import _settled
from tests.histories.recorder import Recorder, Scenario, expect
from tests.payments_env import SLOW_POLL, payment_bench


async def purposes(rec: Recorder) -> None:
    database = await rec.database("purposes")
    async with payment_bench(database, rec.client, "record-purposes", **SLOW_POLL) as bench:
        rec.watch(bench.ctx.settings)
        await subscriber(bench.ctx.sessions, 1001, "Payer")
        owner = await bench.ctx.storefront.current()
        topup = await record_payment(
            bench.ctx.sessions, owner, new_payment_id(), 1001, None, PaymentMethod.YOOKASSA,
            purpose=PaymentPurpose.TOPUP, topup=Decimal(500),
        )  # fmt: skip
        await start_checkout(bench.ctx, 1001, None, PaymentMethod.YOOKASSA, topup.id)
        bench.yookassa.pay(bench.yookassa.by_order(topup.id)["id"])
        await _settled(rec, bench, "payment_topup_delivered", topup.id, "delivered")
        month = await plan(bench.ctx.sessions, price="299.00")
        gift = await record_payment(
            bench.ctx.sessions, owner, new_payment_id(), 1001, month.id, PaymentMethod.BALANCE,
            purpose=PaymentPurpose.GIFT,
        )  # fmt: skip
        await start_checkout(bench.ctx, 1001, month.id, PaymentMethod.BALANCE, gift.id)
        await _settled(rec, bench, "payment_gift_from_balance", gift.id, "delivered")
        left = await ledger.balance(bench.ctx.sessions, 1001)
        expect(left == Decimal(201), f"500 topped up, 299 paid for the gift: 201 left, got {left}")


SCENARIOS = [Scenario("purposes", ("payment_topup_delivered", "payment_gift_from_balance"), purposes)]
