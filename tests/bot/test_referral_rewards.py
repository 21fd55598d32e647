"""Referral rewards and the invitee discount through the bot, the real PaymentWorkflow and the
payment sandboxes: every method charges the discounted amount on the first purchase only, and each
delivered payment rewards the referrer once (duplicate webhooks, a re-run of the workflow's reward
step) with one message to the referrer."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal

import httpx
from sqlalchemy import select
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.api.workflowservice.v1 import ResetWorkflowExecutionRequest

from shop.customers import referrals
from shop.models import Payment, PaymentStatus, ReferralReward
from tests.bot.conftest import ADMIN_ID, OpenShop
from tests.bot.kit import Person, Shop
from tests.factories import plan
from workflows.payment_messages import workflow_id

REFERRER = 70
DISCOUNTED = "📦 Month · 30 days — 199 ₽ 189.05 ₽ (−5% off your first purchase)\n\nChoose a payment method:"


async def rewards(shop: Shop) -> list[tuple[str, int, int, Decimal]]:
    async with shop.ctx.sessions() as session:
        rows = await session.scalars(select(ReferralReward).order_by(ReferralReward.id))
        return [(row.payment_id, row.referrer_id, row.invitee_id, row.amount) for row in rows]


async def payment(shop: Shop, payment_id: str) -> Payment:
    async with shop.ctx.sessions() as session:
        found = await session.get(Payment, payment_id)
    assert found is not None
    return found


def notices(person: Person) -> list[str]:
    return [text for text in person.texts if "совершил покупку" in text]


async def order(person: Person, method: str, expected_amount: str) -> str:
    """Buy → Month → method; checks the order's amount line and returns the payment id."""
    await person.says("/buy")
    await person.taps("Month")
    await person.taps(method)
    screen = person.last
    assert f"Amount: {expected_amount}\n" in (screen.text or ""), screen.text
    payment_id: str = screen.button("Pay")["callback_data"].split(":", 1)[1]
    await person.taps("Pay", on=screen)
    return payment_id


async def test_every_method_discounts_the_first_purchase_and_rewards_the_referrer(
    shop_with: OpenShop,
) -> None:
    async with shop_with(providers=True) as shop:
        boss = await shop.started(ADMIN_ID, "Boss", "en")
        rita = await shop.started(REFERRER, "Рита")
        await plan(shop.ctx.sessions, "Month", 30, "199", stars=150)
        card, crypto, stars, transfer = (
            shop.person(user_id, f"Friend{user_id}", "en", username=f"friend{user_id}")
            for user_id in (71, 72, 73, 74)
        )
        for friend in (card, crypto, stars, transfer):
            await friend.says(f"/start ref_{REFERRER}")

        await card.says("/buy")
        await card.taps("Month")
        assert card.last.text == DISCOUNTED
        paid = await order(card, "Bank card", "199 ₽ 189.05 ₽ (−5% off your first purchase)")
        url = card.last.button("Go to payment")["url"]
        assert shop.yookassa.by_order(paid)["amount"] == {"value": "189.05", "currency": "RUB"}
        async with httpx.AsyncClient() as browser:
            await browser.get(url)

        by_crypto = await order(crypto, "CryptoBot", "199 ₽ 189.05 ₽ (−5% off your first purchase)")
        invoice = shop.cryptopay.by_payload(by_crypto)
        assert Decimal(invoice["amount"]) == Decimal("189.05")
        shop.cryptopay.pay(invoice["invoice_id"])

        by_stars = await order(stars, "Telegram Stars", "150 ⭐ 143 ⭐ (−5% off your first purchase)")
        [invoice_message] = [m for m in stars.messages if m.invoice]
        assert invoice_message.invoice is not None and invoice_message.invoice.total_amount == 143
        assert await shop.tg.pay(73, invoice_message) is not None

        by_transfer = await order(transfer, "Card transfer", "199 ₽ 189.05 ₽ (−5% off your first purchase)")
        assert (transfer.last.text or "").startswith("💳 Transfer 189.05 ₽ to:")
        await transfer.taps("I have paid")
        told = await shop.tg.wait_for(lambda: [m for m in boss.messages if by_transfer in (m.text or "")])
        await boss.taps("Approve", on=told[-1])

        paid_ids = [paid, by_crypto, by_stars, by_transfer]
        await shop.tg.wait_for(lambda: len(notices(rita)) == 4, 60)
        for payment_id in paid_ids:
            assert (await payment(shop, payment_id)).status is PaymentStatus.DELIVERED
        assert sorted(await rewards(shop)) == sorted(
            (payment_id, REFERRER, invitee, Decimal("18.91"))
            for payment_id, invitee in zip(paid_ids, (71, 72, 73, 74), strict=True)
        )
        assert sorted(notices(rita)) == [
            f"🎉 Ваш реферал @friend{user_id} совершил покупку: +18.91 ₽ на реферальный баланс."
            for user_id in (71, 72, 73, 74)
        ]
        summary = await referrals.summary(shop.ctx.sessions, REFERRER)
        assert (summary.invited, summary.paying, summary.balance) == (4, 4, Decimal("75.64"))

        # A second purchase: the full price, still 10 % to the referrer.
        await card.says("/buy")
        await card.taps("Month")
        assert card.last.text == "📦 Month · 30 days — 199 ₽\n\nChoose a payment method:"
        again = await order(stars, "Telegram Stars", "150 ⭐")
        invoices = [m for m in stars.messages if m.invoice]
        assert invoices[-1].invoice is not None and invoices[-1].invoice.total_amount == 150
        await shop.tg.pay(73, invoices[-1])
        await shop.tg.wait_for(lambda: len(notices(rita)) == 5, 60)
        assert (await rewards(shop))[-1] == (again, REFERRER, 73, Decimal("19.90"))


def step_name(event: HistoryEvent) -> str | None:
    """The activity an event schedules: a regular one, or a local one (recorded as a marker whose
    data names its type), since the payment runs its short steps as local activities."""
    if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
        return event.activity_task_scheduled_event_attributes.activity_type.name
    if event.event_type == EventType.EVENT_TYPE_MARKER_RECORDED:
        for payloads in event.marker_recorded_event_attributes.details.values():
            for payload in payloads.payloads:
                data = json.loads(payload.data or b"null")
                if isinstance(data, dict) and "activity_type" in data:
                    return str(data["activity_type"])
    return None


async def reset_to_the_reward(shop: Shop, payment_id: str) -> str:
    """Re-runs the workflow from the task that scheduled its reward step (Temporal's reset, as an
    operator would after a bug): the reward and the notice run again. Returns the new run's id."""
    client = shop.ctx.require_temporal()
    handle = client.get_workflow_handle(workflow_id(payment_id))
    history = await handle.fetch_history()
    finished = None
    for event in history.events:
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
            finished = event.event_id
        if step_name(event) == "reward_referrer":
            break
    else:
        raise AssertionError("the run has no reward step")
    assert finished is not None
    first_run = (await handle.describe()).run_id
    answer = await client.workflow_service.reset_workflow_execution(
        ResetWorkflowExecutionRequest(
            namespace=client.namespace,
            workflow_execution=WorkflowExecution(workflow_id=workflow_id(payment_id), run_id=first_run),
            reason="test: run the reward step again",
            workflow_task_finish_event_id=finished,
            request_id=uuid.uuid4().hex,
        )
    )
    rerun = client.get_workflow_handle(workflow_id(payment_id), run_id=answer.run_id)
    await rerun.result()
    names = [name for e in (await rerun.fetch_history()).events if (name := step_name(e))]
    assert names.count("reward_referrer") == 1 and names[-2:] == ["reward_referrer", "notify_referrer"]
    return answer.run_id


async def test_duplicate_webhooks_and_a_rerun_reward_once_and_tell_once(shop_with: OpenShop) -> None:
    async with shop_with(providers=True) as shop:
        rita = await shop.started(REFERRER, "Рита")
        await plan(shop.ctx.sessions, "Month", 30, "199", stars=150)
        dan = shop.person(75, "Dan", "en")
        await dan.says(f"/start ref_{REFERRER}")
        # Two discounted orders side by side; the card one becomes the first purchase.
        aside = await order(dan, "Telegram Stars", "150 ⭐ 143 ⭐ (−5% off your first purchase)")
        aside_screen = next(
            m for m in dan.messages if any(b.get("callback_data") == f"pay:{aside}" for b in m.buttons)
        )
        [aside_invoice] = [m for m in dan.messages if m.invoice]
        paid = await order(dan, "Bank card", "199 ₽ 189.05 ₽ (−5% off your first purchase)")
        provider_payment = shop.yookassa.by_order(paid)
        shop.yookassa.pay(provider_payment["id"])
        for _ in range(3):  # the provider delivers the same notification again
            shop.yookassa.notify("payment.succeeded", provider_payment)
        await shop.tg.wait_for(lambda: notices(rita), 60)
        await shop.ctx.require_temporal().get_workflow_handle(workflow_id(paid)).result()
        assert await rewards(shop) == [(paid, REFERRER, 75, Decimal("18.91"))]

        # The other discounted order can no longer be paid: not its invoice, not its pay button.
        assert await shop.tg.pay(75, aside_invoice) is None
        refusal = "The first-purchase discount has been used already. Start a new order from the menu."
        [pre_checkout] = shop.tg.world.pre_checkouts.values()
        assert pre_checkout.error_message == refusal
        answer = await dan.taps("Pay", on=aside_screen)
        assert answer is not None and answer.text == refusal
        assert (await payment(shop, aside)).status is PaymentStatus.CREATED

        await reset_to_the_reward(shop, paid)
        assert await rewards(shop) == [(paid, REFERRER, 75, Decimal("18.91"))]
        assert notices(rita) == ["🎉 Ваш реферал Dan совершил покупку: +18.91 ₽ на реферальный баланс."]
        assert (await referrals.summary(shop.ctx.sessions, REFERRER)).balance == Decimal("18.91")


async def test_a_customer_who_came_without_a_referrer_costs_no_reward_step(shop_with: OpenShop) -> None:
    async with shop_with(providers=True) as shop:
        await plan(shop.ctx.sessions, "Month", 30, "199", stars=150)
        eve = shop.person(76, "Eve", "en")
        await eve.says("/start")
        paid = await order(eve, "Bank card", "199 ₽")
        shop.yookassa.pay(shop.yookassa.by_order(paid)["id"])
        handle = shop.ctx.require_temporal().get_workflow_handle(workflow_id(paid))
        await handle.result()
        assert (await payment(shop, paid)).status is PaymentStatus.DELIVERED
        names = [name for e in (await handle.fetch_history()).events if (name := step_name(e))]
        # The order said the customer has no referrer: the run delivered without asking for a reward.
        assert "record_paid" in names and "reward_referrer" not in names, names
        assert await rewards(shop) == []
