"""Stars through the Telegram sandbox: the bot's payment handlers, the workflow, refunds of what
cannot be delivered or was paid twice. P2P transfers are tested as bot stories (tests/bot)."""

from __future__ import annotations

from sqlalchemy import select
from temporalio.client import Client

from bot.texts import t
from shop.models import PaymentStatus, Subscription
from tests.conftest import Database
from tests.payments_env import OPERATOR, payment_bench, send_stars_invoice


async def test_stars_payment_delivered_and_a_second_charge_refunded(
    sqlite_db: Database, temporal_client: Client, task_queue: str
) -> None:
    async with payment_bench(sqlite_db, temporal_client, task_queue) as bench:
        tg = bench.telegram
        payment_id = await send_stars_invoice(bench)
        charge = await tg.pay(1001, tg.last(1001))
        assert charge is not None  # the pre-checkout was answered ok from the database
        assert (await bench.result(payment_id)).stage == "delivered"
        stored = await bench.payment(payment_id)
        assert stored.status is PaymentStatus.DELIVERED and stored.provider_payment_id == charge.id
        # The same update again, then a second invoice of the same order paid: one grant only,
        # and the second charge goes back.
        await tg.successful_payment(1001, payment_id, 150, charge_id=charge.id)
        second = await tg.successful_payment(1001, payment_id, 150)
        await tg.wait_for(lambda: second.refunded, 20)
        assert not charge.refunded
        assert [g.source_key for g in await bench.grants()] == [payment_id]
        # Paying again is refused at pre-checkout: the order is closed.
        assert await tg.pay(1001, tg.messages(1001)[0]) is None


async def test_stars_price_mismatch_is_refunded_and_customer_told(
    sqlite_db: Database, temporal_client: Client, task_queue: str
) -> None:
    async with payment_bench(sqlite_db, temporal_client, task_queue) as bench:
        tg = bench.telegram
        payment_id = await send_stars_invoice(bench)
        cheap = await tg.successful_payment(1001, payment_id, 1)
        assert (await bench.result(payment_id)).stage == "refunded"
        assert cheap.refunded
        stored = await bench.payment(payment_id)
        assert stored.status is PaymentStatus.REFUNDED and "amount 1 != 150" in (stored.review_reason or "")
        assert await bench.grants() == []
        assert tg.last(1001).text == t("ru", "pay_refunded_undeliverable")
        assert payment_id in (tg.last(OPERATOR).text or "")


async def test_stars_refund_from_telegram_takes_access_back(
    sqlite_db: Database, temporal_client: Client, task_queue: str
) -> None:
    async with payment_bench(sqlite_db, temporal_client, task_queue) as bench:
        tg = bench.telegram
        payment_id = await send_stars_invoice(bench)
        charge = await tg.pay(1001, tg.last(1001))
        assert charge is not None
        assert (await bench.result(payment_id)).stage == "delivered"
        await tg.refunded_payment(charge.id)
        await tg.refunded_payment(charge.id)  # delivered twice: revoked once
        await bench.wait_status(payment_id, PaymentStatus.REFUNDED)
        grants = await bench.grants()
        assert [g.source_key for g in grants] == [payment_id, f"stars-refund:{charge.id}"]
        assert grants[1].duration_seconds == -grants[0].duration_seconds
        async with bench.ctx.sessions() as session:
            sub = await session.scalar(select(Subscription).where(Subscription.user_id == 1001))
        assert sub is not None and sub.expires_at is not None
        assert sub.expires_at <= grants[1].resulting_expiry
