"""Stars and P2P transfers through the Telegram sandbox: the bot's payment handlers, the workflow,
refunds of what cannot be delivered or was paid twice, operator buttons."""

from __future__ import annotations

from sqlalchemy import func, select
from temporalio.client import Client

from bot.main import build_bot
from bot.routers.payments import transfer_keyboard
from bot.texts import t
from sandbox.telegram.records import SentMessage
from shop.models import Grant, PaymentMethod, PaymentStatus, Subscription
from shop.payments.service import new_payment_id, start_checkout
from tests.conftest import Database
from tests.factories import plan, subscriber
from tests.payments_env import OPERATOR, PaymentBench, payment_bench, send_stars_invoice


async def _grants(bench: PaymentBench) -> list[Grant]:
    async with bench.ctx.sessions() as session:
        return list(await session.scalars(select(Grant).order_by(Grant.id)))


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
        assert [g.source_key for g in await _grants(bench)] == [payment_id]
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
        assert await _grants(bench) == []
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
        grants = await _grants(bench)
        assert [g.source_key for g in grants] == [payment_id, f"stars-refund:{charge.id}"]
        assert grants[1].duration_seconds == -grants[0].duration_seconds
        async with bench.ctx.sessions() as session:
            sub = await session.scalar(select(Subscription).where(Subscription.user_id == 1001))
        assert sub is not None and sub.expires_at is not None
        assert sub.expires_at <= grants[1].resulting_expiry


async def _requisites(bench: PaymentBench, user_id: int, payment_id: str, text: str) -> SentMessage:
    """What the bot's buy flow shows: the requisites with the customer's "I have paid" button."""
    bot = build_bot(bench.ctx.settings)
    try:
        await bot.send_message(user_id, text, reply_markup=transfer_keyboard("ru", payment_id))
    finally:
        await bot.session.close()
    return bench.telegram.last(user_id)


async def test_p2p_transfer_approved_by_the_operator(
    sqlite_db: Database, temporal_client: Client, task_queue: str
) -> None:
    async with payment_bench(sqlite_db, temporal_client, task_queue) as bench:
        tg = bench.telegram
        await subscriber(bench.ctx.sessions, 1002)
        offer = await plan(bench.ctx.sessions)
        payment_id = new_payment_id()
        checkout = await start_checkout(bench.ctx, 1002, offer.id, PaymentMethod.P2P, payment_id)
        assert checkout.requisites and checkout.status is PaymentStatus.PENDING
        # A stranger cannot approve; the customer claims the transfer; the operator approves.
        stranger = await _requisites(bench, 1003, payment_id, "hello")
        forged = await tg.send_callback(1003, stranger.message_id, f"p2p:ok:{payment_id}")
        answer = await tg.wait_for(lambda: tg.callback_answer(forged))
        assert answer.text == t("en", "op_not_operator")
        await tg.press(1002, await _requisites(bench, 1002, payment_id, checkout.requisites), "Я оплатил")
        request = await tg.wait_for(lambda: [m for m in tg.messages(OPERATOR) if m.reply_markup])
        await tg.press(OPERATOR, request[-1], "Подтвердить")
        assert (await bench.result(payment_id)).stage == "delivered"
        assert [g.source_key for g in await _grants(bench)] == [payment_id]


async def test_p2p_transfer_declined_and_unanswered_ones_expire(
    sqlite_db: Database, temporal_client: Client, task_queue: str
) -> None:
    async with payment_bench(sqlite_db, temporal_client, task_queue, p2p_confirm_seconds=2) as bench:
        tg = bench.telegram
        await subscriber(bench.ctx.sessions, 1002)
        offer = await plan(bench.ctx.sessions)
        declined, silent = new_payment_id(), new_payment_id()
        await start_checkout(bench.ctx, 1002, offer.id, PaymentMethod.P2P, declined)
        await start_checkout(bench.ctx, 1002, offer.id, PaymentMethod.P2P, silent)
        await tg.press(1002, await _requisites(bench, 1002, declined, "card"), "Я оплатил")
        request = await tg.wait_for(lambda: [m for m in tg.messages(OPERATOR) if m.reply_markup])
        await tg.press(OPERATOR, request[-1], "Отклонить")
        assert (await bench.result(declined)).stage == "canceled"
        assert (await bench.payment(declined)).status is PaymentStatus.CANCELED
        # Nobody confirms the other one within the (two-second) window: it expires.
        await temporal_client.get_workflow_handle(f"payment:{silent}").signal(
            "check_provider", {"source": "t"}
        )
        assert (await bench.result(silent, within=90)).stage == "expired"
        async with bench.ctx.sessions() as session:
            assert await session.scalar(select(func.count()).select_from(Grant)) == 0
