"""The sweeper Schedule recovers what webhooks missed and expires checkouts nobody paid."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update
from temporalio.client import Client

from activities.sweeper import SweepInput, SweepReport
from shop.models import Grant, Payment, PaymentMethod, PaymentStatus
from shop.payments.service import new_payment_id, start_checkout
from tests.conftest import Database
from tests.factories import plan, subscriber
from tests.payments_env import SLOW_POLL, payment_bench, send_stars_invoice
from workflows.sweeper import SCHEDULE_ID, PaymentSweepWorkflow, payment_sweep_schedule


async def test_lost_webhooks_are_delivered_by_the_sweeper(
    sqlite_db: Database, temporal_client: Client, task_queue: str
) -> None:
    async with payment_bench(sqlite_db, temporal_client, task_queue, **SLOW_POLL) as bench:
        ctx = bench.ctx
        await subscriber(ctx.sessions, 1001)
        offer = await plan(ctx.sessions)
        yk_id, cp_id, stale_id = new_payment_id(), new_payment_id(), new_payment_id()
        await start_checkout(ctx, 1001, offer.id, PaymentMethod.YOOKASSA, yk_id)
        await start_checkout(ctx, 1001, offer.id, PaymentMethod.CRYPTOPAY, cp_id)
        # A checkout nobody paid, picked three hours ago.
        await start_checkout(ctx, 1001, offer.id, PaymentMethod.STARS, stale_id)
        async with ctx.sessions() as session, session.begin():
            hours_ago = datetime.now(UTC) - timedelta(hours=3)
            await session.execute(update(Payment).where(Payment.id == stale_id).values(created_at=hours_ago))
        bench.yookassa.webhooks.lose = True
        bench.cryptopay.webhooks.lose = True
        bench.yookassa.pay(bench.yookassa.by_order(yk_id)["id"])
        bench.cryptopay.pay(bench.cryptopay.by_payload(cp_id)["invoice_id"])
        await asyncio.sleep(0.3)
        assert (await bench.payment(yk_id)).status is PaymentStatus.PENDING  # nothing told us

        schedule = payment_sweep_schedule(ctx.settings, task_queue)
        schedule.action.id = f"{SCHEDULE_ID}-{task_queue}"  # type: ignore[attr-defined]
        handle = await temporal_client.create_schedule(f"{SCHEDULE_ID}-{task_queue}", schedule)
        try:
            await handle.trigger()
            assert (await bench.result(yk_id)).stage == "delivered"
            assert (await bench.result(cp_id)).stage == "delivered"
            await bench.wait_status(stale_id, PaymentStatus.EXPIRED)
            # A second sweep finds nothing left to do.
            report = await temporal_client.execute_workflow(
                PaymentSweepWorkflow.run, SweepInput(),
                id=f"sweep-again-{task_queue}", task_queue=task_queue,
            )  # fmt: skip
            assert report.signaled == [] and report.expired == [] and report.late == []
        finally:
            await handle.delete()
        async with ctx.sessions() as session:
            grants = await session.scalar(select(func.count()).select_from(Grant))
        assert grants == 2


async def _sweep(client: Client, task_queue: str, run: str) -> SweepReport:
    return await client.execute_workflow(
        PaymentSweepWorkflow.run, SweepInput(), id=f"sweep-{run}-{task_queue}", task_queue=task_queue
    )


async def test_a_stars_charge_whose_update_was_lost_is_delivered_by_the_sweeper(
    sqlite_db: Database, temporal_client: Client, task_queue: str
) -> None:
    async with payment_bench(sqlite_db, temporal_client, task_queue) as bench:
        tg = bench.telegram
        payment_id = await send_stars_invoice(bench)
        # Telegram charged the customer, but the successful_payment never reached the bot.
        charge = await tg.pay(1001, tg.last(1001), lost=True)
        assert charge is not None
        stranger = await tg.successful_payment(1002, "not-a-payment-of-ours", 5, lost=True)
        await asyncio.sleep(0.3)
        assert (await bench.payment(payment_id)).status is PaymentStatus.CREATED  # nothing told us

        report = await _sweep(temporal_client, task_queue, "1")
        assert report.signaled == [payment_id] and report.errors == []
        assert (await bench.result(payment_id)).stage == "delivered"
        stored = await bench.payment(payment_id)
        assert stored.status is PaymentStatus.DELIVERED and stored.provider_payment_id == charge.id
        # The same order paid a second time, also lost: the next sweep gives those Stars back.
        extra = await tg.successful_payment(1001, payment_id, 150, lost=True)
        report = await _sweep(temporal_client, task_queue, "2")
        assert report.signaled == [] and report.refunded == [extra.id]
        await tg.wait_for(lambda: extra.refunded, 20)
        # Nothing is left: the refunded charge and the delivered one are settled; a charge for a
        # payload that is not ours is left alone (neither delivered nor refunded).
        report = await _sweep(temporal_client, task_queue, "3")
        assert (report.signaled, report.refunded, report.late) == ([], [], [])
        assert not charge.refunded and not stranger.refunded
        async with bench.ctx.sessions() as session:
            keys = list(await session.scalars(select(Grant.source_key)))
        assert keys == [payment_id]
