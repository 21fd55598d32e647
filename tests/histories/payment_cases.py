"""Recorded runs of payment workflows through the provider and Telegram sandboxes: YooKassa by
webhook (delivered, refunded, amount mismatch), Stars (delivered, refunded, a second charge, a price
mismatch), a P2P transfer approved, the sweeper finding lost webhooks and a late payment, and an
invitee's purchase rewarding the referrer, and a payment delivered while one host is down (access first);
and since the `inline-hosts` patch, payments whose run tries the hosts itself: both serving, one down,
none serving until one returns; one of a customer without a referrer (no reward step); and the
compact run's shape."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from bot.texts import t
from sandbox.panel import V3_1, SandboxPanel
from shop.customers.accounts import ensure_subscription, register_user
from shop.customers.referrals import summary
from shop.models import PaymentMethod, PaymentStatus
from shop.payments.checkout import Checkout
from shop.payments.service import new_payment_id, start_checkout
from tests.factories import plan, subscriber
from tests.histories.recorder import Recorder, Scenario, expect
from tests.panel_fixtures import add_sandbox_host
from tests.payments_env import OPERATOR, SLOW_POLL, PaymentBench, payment_bench, send_stars_invoice
from workflows.payment_messages import stars_refund_key, workflow_id
from workflows.provision import ProvisionSubscriptionWorkflow, provision_workflow_id
from workflows.refund import charge_workflow_id, refund_workflow_id
from workflows.sales_digest import SalesDigestInput, SalesDigestWorkflow
from workflows.sweeper import SCHEDULE_ID, PaymentSweepWorkflow, SweepInput

# Webhooks (or the sweeper) bring the news; polling would only race them.


async def _checkout(bench: PaymentBench, user_id: int, method: PaymentMethod) -> str:
    await subscriber(bench.ctx.sessions, user_id, f"User{user_id}")
    offer = await plan(bench.ctx.sessions)
    payment_id = new_payment_id()
    await start_checkout(bench.ctx, user_id, offer.id, method, payment_id)
    return payment_id


async def _settled(rec: Recorder, bench: PaymentBench, name: str, payment_id: str, stage: str) -> None:
    progress = await bench.result(payment_id, within=150)
    expect(progress.stage == stage, f"{name}: {stage} expected, got {progress}")
    await rec.save(name, workflow_id(payment_id))


async def _yookassa(rec: Recorder, bench: PaymentBench) -> None:
    yookassa = bench.yookassa
    paid = await _checkout(bench, 1001, PaymentMethod.YOOKASSA)
    provider_id = yookassa.by_order(paid)["id"]
    yookassa.pay(provider_id)
    await _settled(rec, bench, "payment_yookassa_delivered", paid, "delivered")

    refund_id = yookassa.refund(provider_id)
    await bench.wait_status(paid, PaymentStatus.REFUNDED)
    await rec.save("refund_yookassa_full", refund_workflow_id(f"yookassa-refund:{refund_id}"))
    # A refund event YooKassa does not confirm on re-fetch: nothing is taken back.
    unknown = {"id": "rf-unknown", "payment_id": provider_id, "status": "succeeded"}
    yookassa.notify("refund.succeeded", unknown)
    await rec.save("refund_yookassa_unconfirmed", refund_workflow_id("yookassa-refund:rf-unknown"))

    cheap = await _checkout(bench, 1002, PaymentMethod.YOOKASSA)
    payment = yookassa.by_order(cheap)
    payment["amount"] = {"value": "2.99", "currency": "RUB"}
    yookassa.pay(payment["id"])
    await _settled(rec, bench, "payment_yookassa_amount_mismatch", cheap, "review")


async def _stars(rec: Recorder, bench: PaymentBench) -> None:
    telegram = bench.telegram
    payment_id = await send_stars_invoice(bench, 1003)
    charge = await telegram.pay(1003, telegram.last(1003))
    expect(charge is not None, "the pre-checkout was answered ok")
    assert charge is not None
    await _settled(rec, bench, "payment_stars_delivered", payment_id, "delivered")

    second = await telegram.successful_payment(1003, payment_id, 150)  # a second invoice paid
    await telegram.wait_for(lambda: second.refunded, 20)
    await rec.save("refund_charge_second_invoice", charge_workflow_id(second.id))

    await telegram.refunded_payment(charge.id)
    await bench.wait_status(payment_id, PaymentStatus.REFUNDED)
    await rec.save("refund_stars_refunded", refund_workflow_id(stars_refund_key(charge.id)))

    underpaid = await send_stars_invoice(bench, 1004)
    cheap = await telegram.successful_payment(1004, underpaid, 1)
    await _settled(rec, bench, "payment_stars_price_mismatch_refunded", underpaid, "refunded")
    expect(cheap.refunded, "the underpaid charge went back")


async def _p2p(rec: Recorder, bench: PaymentBench) -> None:
    checkout = Checkout(bench.ctx)
    payment_id = await _checkout(bench, 1005, PaymentMethod.P2P)
    assert await checkout.confirm_transfer(1005, payment_id)  # the customer's "I have paid"
    # The workflow asks the operators once; the first decision counts.
    await bench.telegram.wait_for(
        lambda: [m for m in bench.telegram.messages(OPERATOR) if payment_id in (m.text or "")]
    )
    assert await checkout.review(OPERATOR, payment_id, approve=True)
    await _settled(rec, bench, "payment_p2p_approved", payment_id, "delivered")


async def payments(rec: Recorder) -> None:
    database = await rec.database("payments")
    async with (
        SandboxPanel(version=V3_1) as panel,
        payment_bench(database, rec.client, "record-payments", **SLOW_POLL) as bench,
    ):
        rec.watch(bench.ctx.settings)
        rec.keep_out(panel.password)
        await add_sandbox_host(bench.ctx, panel)
        await _yookassa(rec, bench)
        await _stars(rec, bench)
        await _p2p(rec, bench)


async def sweeper(rec: Recorder) -> None:
    database = await rec.database("sweeper")
    queue = "record-sweeper"
    # A one-minute deadline: a checkout left alone expires here while the recorder waits.
    async with payment_bench(database, rec.client, queue, payment_deadline_minutes=1, **SLOW_POLL) as bench:
        rec.watch(bench.ctx.settings)
        late = await _checkout(bench, 1001, PaymentMethod.YOOKASSA)
        await _settled(rec, bench, "payment_yookassa_expired", late, "expired")

        lost = await _checkout(bench, 1002, PaymentMethod.YOOKASSA)
        lost_crypto = await _checkout(bench, 1003, PaymentMethod.CRYPTOPAY)
        bench.yookassa.webhooks.lose = bench.cryptopay.webhooks.lose = True
        bench.yookassa.pay(bench.yookassa.by_order(late)["id"])  # paid after it expired here
        bench.yookassa.pay(bench.yookassa.by_order(lost)["id"])
        bench.cryptopay.pay(bench.cryptopay.by_payload(lost_crypto)["invoice_id"])
        report = await rec.client.execute_workflow(
            PaymentSweepWorkflow.run, SweepInput(), id=SCHEDULE_ID, task_queue=queue
        )
        expect(sorted(report.signaled) == sorted([lost, lost_crypto]), f"lost webhooks found: {report}")
        expect(report.late == [late], f"the late payment goes to review: {report}")
        await rec.save("sweep_lost_webhooks_and_late", SCHEDULE_ID)
        await _settled(rec, bench, "payment_yookassa_swept", lost, "delivered")
        await _settled(rec, bench, "payment_cryptopay_swept", lost_crypto, "delivered")
        expect((await bench.payment(late)).status is PaymentStatus.REVIEW, "the late payment is in review")


@asynccontextmanager
async def _two_hosts(
    rec: Recorder, name: str, hosts: tuple[str, str] = ("first", "second")
) -> AsyncIterator[tuple[PaymentBench, SandboxPanel, SandboxPanel]]:
    """A payment bench with two v3.1 hosts named `hosts`, as the payments bench has them."""
    database = await rec.database(name)
    async with (
        SandboxPanel(version=V3_1) as first,
        SandboxPanel(version=V3_1) as second,
        payment_bench(database, rec.client, f"record-{name}", **SLOW_POLL) as bench,
    ):
        rec.watch(bench.ctx.settings)
        for panel, host in zip((first, second), hosts, strict=True):
            rec.keep_out(panel.password)
            await add_sandbox_host(bench.ctx, panel, host)
        yield bench, first, second


async def access_first(rec: Recorder) -> None:
    """One of two hosts refuses connections: the card goes out on the other; the payment's own
    provisioning run finishes the second host in the background once it is back."""
    async with _two_hosts(rec, "access-first", ("healthy", "dead")) as (bench, _healthy, dead):
        await dead.down()
        paid = await _checkout(bench, 1001, PaymentMethod.YOOKASSA)
        bench.yookassa.pay(bench.yookassa.by_order(paid)["id"])
        await _settled(rec, bench, "payment_access_first_host_down", paid, "delivered")
        await dead.up()
        sub = await ensure_subscription(bench.ctx.sessions, 1001)
        child = provision_workflow_id(sub.id, f"payment:{paid}")
        result = await rec.client.get_workflow_handle_for(ProvisionSubscriptionWorkflow.run, child).result()
        expect(not result.failed_hosts, f"the dead host is provisioned once back: {result}")
        await rec.save("provision_access_first_reported", child)


async def inline_hosts(rec: Recorder) -> None:
    """A lean payment's run tries both hosts itself: both take the client (no provisioning run), one
    refuses connections (the card on the other, the refusing one handed to a provisioning run), both
    refuse (the customer told, the card once one is back)."""
    async with _two_hosts(rec, "inline-hosts") as (bench, first, second):
        served = await _checkout(bench, 1001, PaymentMethod.YOOKASSA)
        bench.yookassa.pay(bench.yookassa.by_order(served)["id"])
        await _settled(rec, bench, "payment_inline_hosts_all_served", served, "delivered")

        await second.down()
        one_down = await _checkout(bench, 1002, PaymentMethod.YOOKASSA)
        bench.yookassa.pay(bench.yookassa.by_order(one_down)["id"])
        await _settled(rec, bench, "payment_inline_hosts_one_down", one_down, "delivered")

        await first.down()
        none = await _checkout(bench, 1003, PaymentMethod.YOOKASSA)
        bench.yookassa.pay(bench.yookassa.by_order(none)["id"])
        told = t("ru", "pay_no_host_yet")  # the factories' customers speak Russian
        await bench.telegram.wait_for(lambda: any(m.text == told for m in bench.telegram.messages(1003)), 60)
        await first.up()
        await _settled(rec, bench, "payment_inline_hosts_none_then_one", none, "delivered")
        await second.up()


async def referrals(rec: Recorder) -> None:
    database = await rec.database("referrals")
    async with payment_bench(database, rec.client, "record-referrals", **SLOW_POLL) as bench:
        rec.watch(bench.ctx.settings)
        await register_user(bench.ctx.sessions, 1001, "referrer", "Referrer")
        await register_user(bench.ctx.sessions, 1002, "invitee", "Invitee", referrer_id=1001)
        paid = await _checkout(bench, 1002, PaymentMethod.YOOKASSA)
        discount = (await bench.payment(paid)).discount_percent
        expect(discount == 5, f"the invitee's first purchase is discounted 5 %, got {discount}")
        bench.yookassa.pay(bench.yookassa.by_order(paid)["id"])
        await _settled(rec, bench, "payment_referral_rewarded", paid, "delivered")
        balance = (await summary(bench.ctx.sessions, 1001)).balance
        expect(balance == Decimal("28.41"), f"10 % of 284.05 RUB to the referrer, got {balance}")


async def lean(rec: Recorder) -> None:
    """The payment's shape since the `lean-steps` patch (short steps as local activities, paid and
    granted in one step), an invitee's purchase so the referral steps are in it too; then the
    operators' sales digest for the window holding it."""
    database = await rec.database("lean")
    async with (
        SandboxPanel(version=V3_1) as panel,
        payment_bench(database, rec.client, "record-lean", **SLOW_POLL) as bench,
    ):
        rec.watch(bench.ctx.settings)
        rec.keep_out(panel.password)
        await add_sandbox_host(bench.ctx, panel)
        await register_user(bench.ctx.sessions, 1001, "referrer", "Referrer")
        await register_user(bench.ctx.sessions, 1002, "invitee", "Invitee", referrer_id=1001)
        paid = await _checkout(bench, 1002, PaymentMethod.YOOKASSA)
        bench.yookassa.pay(bench.yookassa.by_order(paid)["id"])
        await _settled(rec, bench, "payment_referral_lean_delivered", paid, "delivered")
        until = datetime.now(UTC) + timedelta(seconds=1)
        digest_id = "sales-digest-recorded"
        sent = await rec.client.execute_workflow(
            SalesDigestWorkflow.run,
            SalesDigestInput(minutes=60, until=until),
            id=digest_id,
            task_queue="record-lean",
        )
        expect(sent.sales == 1 and sent.operators == 1, f"one sale, one operator told: {sent}")
        await rec.save("sales_digest_sent", digest_id)


async def unreferred(rec: Recorder) -> None:
    """Since its order says whether the customer has a referrer, a lean payment of a customer without
    one delivers with no reward step; on two hosts, as the payments bench's (bench/payment_shape.py
    stands for it)."""
    async with _two_hosts(rec, "unreferred") as (bench, _first, _second):
        paid = await _checkout(bench, 1001, PaymentMethod.YOOKASSA)
        bench.yookassa.pay(bench.yookassa.by_order(paid)["id"])
        await _settled(rec, bench, "payment_unreferred_delivered", paid, "delivered")


async def compact(rec: Recorder) -> None:
    """A payment's shape since the `compact-run` patch: one marker for every patch, "paid" listing the
    hosts and the card's composing recording "delivered". A customer without a referrer on two hosts
    (the payments bench's, which bench/payment_shape.py stands for); then an invitee's while the
    second host refuses connections (its provisioning run in the background, the referrer told)."""
    async with _two_hosts(rec, "compact") as (bench, _first, second):
        paid = await _checkout(bench, 1001, PaymentMethod.YOOKASSA)
        bench.yookassa.pay(bench.yookassa.by_order(paid)["id"])
        await _settled(rec, bench, "payment_compact_delivered", paid, "delivered")

        await second.down()
        await register_user(bench.ctx.sessions, 1002, "referrer", "Referrer")
        await register_user(bench.ctx.sessions, 1003, "invitee", "Invitee", referrer_id=1002)
        invited = await _checkout(bench, 1003, PaymentMethod.YOOKASSA)
        bench.yookassa.pay(bench.yookassa.by_order(invited)["id"])
        await _settled(rec, bench, "payment_compact_referred_host_down", invited, "delivered")
        balance = (await summary(bench.ctx.sessions, 1002)).balance
        expect(balance > 0, f"the referrer is rewarded, got {balance}")
        await second.up()


SCENARIOS = [
    Scenario(
        "payments",
        (
            "payment_yookassa_delivered",
            "refund_yookassa_full",
            "refund_yookassa_unconfirmed",
            "payment_yookassa_amount_mismatch",
            "payment_stars_delivered",
            "refund_charge_second_invoice",
            "refund_stars_refunded",
            "payment_stars_price_mismatch_refunded",
            "payment_p2p_approved",
        ),
        payments,
    ),
    Scenario(
        "sweeper",
        (
            "payment_yookassa_expired",
            "sweep_lost_webhooks_and_late",
            "payment_yookassa_swept",
            "payment_cryptopay_swept",
        ),
        sweeper,
    ),
    Scenario("referrals", ("payment_referral_rewarded",), referrals),
    Scenario(
        "access_first", ("payment_access_first_host_down", "provision_access_first_reported"), access_first
    ),
    Scenario("lean", ("payment_referral_lean_delivered", "sales_digest_sent"), lean),
    Scenario(
        "inline_hosts",
        (
            "payment_inline_hosts_all_served",
            "payment_inline_hosts_one_down",
            "payment_inline_hosts_none_then_one",
        ),
        inline_hosts,
    ),
    Scenario("unreferred", ("payment_unreferred_delivered",), unreferred),
    Scenario("compact", ("payment_compact_delivered", "payment_compact_referred_host_down"), compact),
]
