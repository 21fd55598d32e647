"""Promo codes, top-ups, gifts and balance payments through the real PaymentWorkflow, our API and
the YooKassa sandbox: the discount the provider is asked for, five duplicate webhooks counting one
use, a payment that ends without money giving its use back."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from temporalio.client import Client

from shop.balance import ledger
from shop.gifts import store as gifts
from shop.models import BalanceKind, Gift, Grant, PaymentMethod, PaymentPurpose, PaymentStatus, PromoCode
from shop.operators.audit import Actor
from shop.payments.service import new_payment_id, start_checkout
from shop.promo import codes, uses
from shop.promo.catalogue import PromoCatalogue, parse_promo
from tests.conftest import Database
from tests.factories import plan, subscriber
from tests.payments_env import SLOW_POLL, PaymentBench, payment_bench


async def launch_code(bench: PaymentBench, **fields: str) -> int:
    form = {"code": "LAUNCH", "kind": "percent", "value": "20", "active": "on", "once_per_customer": "on"}
    return await PromoCatalogue(bench.ctx.sessions).create(Actor(900, "console"), parse_promo(form | fields))


async def used(bench: PaymentBench, code_id: int) -> int:
    async with bench.ctx.sessions() as session:
        return int(await session.scalar(select(PromoCode.used).where(PromoCode.id == code_id)) or 0)


async def provider_id(bench: PaymentBench, payment_id: str) -> str:
    return next(pid for pid, p in bench.yookassa.payments.items() if p["metadata"]["order_id"] == payment_id)


async def test_a_discounted_payment_with_five_duplicate_webhooks_counts_one_use(
    db: Database, temporal_client: Client, task_queue: str
) -> None:
    async with payment_bench(db, temporal_client, task_queue, **SLOW_POLL) as bench:
        await subscriber(bench.ctx.sessions, 1001)
        month = await plan(bench.ctx.sessions, price="299.00")
        code_id = await launch_code(bench, max_uses="5")
        await codes.choose(bench.ctx.sessions, 1001, code_id)
        payment_id = new_payment_id()
        await start_checkout(bench.ctx, 1001, month.id, PaymentMethod.YOOKASSA, payment_id)
        paid_at = await provider_id(bench, payment_id)
        assert bench.yookassa.payments[paid_at]["amount"] == {"value": "239.20", "currency": "RUB"}
        bench.yookassa.webhooks.copies = 5
        bench.yookassa.pay(paid_at)
        assert (await bench.result(payment_id)).stage == "delivered"
        await bench.yookassa.webhooks.drain()
        assert [a.status for a in bench.yookassa.webhooks.attempts[-5:]] == [200] * 5
        assert await used(bench, code_id) == 1
        use = await uses.of_payment(bench.ctx.sessions, payment_id)
        assert use is not None and use.released_at is None and use.discount == Decimal("59.80")
        assert await codes.chosen(bench.ctx.sessions, 1001) is None  # spent with the delivery
        assert len([g for g in await bench.grants() if g.source_key == payment_id]) == 1


async def test_a_payment_that_ends_without_money_gives_its_use_back(
    db: Database, temporal_client: Client, task_queue: str
) -> None:
    async with payment_bench(db, temporal_client, task_queue, **SLOW_POLL) as bench:
        await subscriber(bench.ctx.sessions, 1002)
        month = await plan(bench.ctx.sessions)
        code_id = await launch_code(bench, max_uses="1", kind="bonus_days", value="7")
        await codes.choose(bench.ctx.sessions, 1002, code_id)
        payment_id = new_payment_id()
        await start_checkout(bench.ctx, 1002, month.id, PaymentMethod.YOOKASSA, payment_id)
        assert await used(bench, code_id) == 1
        bench.yookassa.expire(await provider_id(bench, payment_id))
        assert (await bench.result(payment_id)).stage == "canceled"
        assert await used(bench, code_id) == 0
        # Bought again with the code: the bonus week comes with the month.
        again = new_payment_id()
        await start_checkout(bench.ctx, 1002, month.id, PaymentMethod.YOOKASSA, again)
        bench.yookassa.pay(await provider_id(bench, again))
        assert (await bench.result(again)).stage == "delivered"
        [grant] = [g for g in await bench.grants() if g.source_key == again]
        assert grant.duration_seconds == 37 * 86400 and await used(bench, code_id) == 1


async def test_top_up_then_gift_paid_from_the_balance(
    db: Database, temporal_client: Client, task_queue: str
) -> None:
    async with payment_bench(db, temporal_client, task_queue, **SLOW_POLL) as bench:
        await subscriber(bench.ctx.sessions, 1003)
        owner = await bench.ctx.storefront.current()
        from shop.payments.service import record_payment

        topup = await record_payment(
            bench.ctx.sessions, owner, new_payment_id(), 1003, None, PaymentMethod.YOOKASSA,
            purpose=PaymentPurpose.TOPUP, topup=Decimal(500),
        )  # fmt: skip
        await start_checkout(bench.ctx, 1003, None, PaymentMethod.YOOKASSA, topup.id)
        bench.yookassa.pay(await provider_id(bench, topup.id))
        assert (await bench.result(topup.id)).stage == "delivered"
        assert await ledger.balance(bench.ctx.sessions, 1003) == Decimal(500)
        assert await bench.grants() == []  # a top-up buys no days
        await bench.telegram.wait_for(
            lambda: any("500" in (m.text or "") for m in bench.telegram.messages(1003))
        )

        month = await plan(bench.ctx.sessions, price="299.00")
        gift = await record_payment(
            bench.ctx.sessions, owner, new_payment_id(), 1003, month.id, PaymentMethod.BALANCE,
            purpose=PaymentPurpose.GIFT,
        )  # fmt: skip
        first = await start_checkout(bench.ctx, 1003, month.id, PaymentMethod.BALANCE, gift.id)
        second = await start_checkout(bench.ctx, 1003, month.id, PaymentMethod.BALANCE, gift.id)
        assert first.payment_id == second.payment_id
        assert (await bench.result(gift.id)).stage == "delivered"
        assert await ledger.balance(bench.ctx.sessions, 1003) == Decimal(201)
        async with bench.ctx.sessions() as session:
            minted = await session.scalar(select(Gift).where(Gift.payment_id == gift.id))
            purchases = list(await session.scalars(select(Grant)))
        assert minted is not None and minted.days == 30 and purchases == []
        message = await bench.telegram.wait_for(
            lambda: [m for m in bench.telegram.messages(1003) if minted.code in (m.text or "")]
        )
        assert f"{gifts.START_PREFIX}{minted.code}" in (message[-1].text or "")
        entries = await ledger.entries(bench.ctx.sessions, 1003)
        assert [(e.kind, e.amount) for e in entries] == [
            (BalanceKind.PURCHASE, Decimal("-299.00")), (BalanceKind.TOPUP, Decimal("500.00")),
        ]  # fmt: skip
        stored = await bench.payment(gift.id)
        assert stored.status is PaymentStatus.DELIVERED

        # The top-up refunded at YooKassa (its webhook five times): the 500 leave the balance once,
        # though 299 of them were spent: the balance shows the debt, and the customer is told.
        bench.yookassa.webhooks.copies = 5
        refund_id = bench.yookassa.refund(await provider_id(bench, topup.id))
        await bench.wait_status(topup.id, PaymentStatus.REFUNDED)
        await bench.yookassa.webhooks.drain()
        await bench.telegram.wait_for(
            lambda: any("↩️" in (m.text or "") for m in bench.telegram.messages(1003))
        )
        assert await ledger.balance(bench.ctx.sessions, 1003) == Decimal(-299)
        refunds = [e for e in await ledger.entries(bench.ctx.sessions, 1003) if e.kind is BalanceKind.REFUND]
        assert [(e.amount, e.actor) for e in refunds] == [(Decimal("-500.00"), "refund")]
        assert refund_id and await bench.grants() == []  # no days were bought, none taken back
