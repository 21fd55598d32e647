"""Recorded runs of the operators' workflows: a YooKassa payment in review (the provider reported
another amount) delivered anyway by an operator (`ResolveReviewWorkflow`), then its access card
sent again (`CustomerNoticeWorkflow`)."""

from __future__ import annotations

from sandbox.panel import V3_1, SandboxPanel
from shop.models import PaymentMethod, PaymentStatus
from shop.operators.audit import Actor
from shop.payments.decisions import PaymentDesk
from shop.payments.service import new_payment_id, start_checkout
from tests.factories import plan, subscriber
from tests.histories.recorder import Recorder, Scenario, expect
from tests.panel_fixtures import add_sandbox_host
from tests.payments_env import OPERATOR, SLOW_POLL, payment_bench
from workflows.operator import notice_workflow_id, resolution_workflow_id


async def operators(rec: Recorder) -> None:
    database = await rec.database("operators")
    async with (
        SandboxPanel(version=V3_1) as panel,
        payment_bench(database, rec.client, "record-operators", **SLOW_POLL) as bench,
    ):
        rec.watch(bench.ctx.settings)
        rec.keep_out(panel.password)
        await add_sandbox_host(bench.ctx, panel)
        await subscriber(bench.ctx.sessions, 1001, "User1001")
        offer = await plan(bench.ctx.sessions)
        payment_id = new_payment_id()
        await start_checkout(bench.ctx, 1001, offer.id, PaymentMethod.YOOKASSA, payment_id)
        paid = bench.yookassa.by_order(payment_id)
        paid["amount"] = {"value": "2.99", "currency": "RUB"}
        bench.yookassa.pay(paid["id"])
        await bench.wait_status(payment_id, PaymentStatus.REVIEW, within=60)

        desk = PaymentDesk(bench.ctx, Actor(OPERATOR, "console"))
        expect(await desk.resolve(payment_id, "deliver", "paid the rest by card"), "the resolution counts")
        await bench.wait_status(payment_id, PaymentStatus.DELIVERED, within=60)
        await rec.save("resolve_review_delivered", resolution_workflow_id(payment_id))

        expect(await desk.resend_card(payment_id, "recordcard01", "lost the message"), "the card is sent")
        await rec.save("customer_notice_card", notice_workflow_id("recordcard01"))


SCENARIOS = [Scenario("operators", ("resolve_review_delivered", "customer_notice_card"), operators)]
