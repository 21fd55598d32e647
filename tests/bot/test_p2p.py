"""Card transfers (P2P): the customer says "I have paid", the operators get one message with approve
and decline from the payment's workflow, the first decision counts; unclaimed transfers expire."""

from __future__ import annotations

from sqlalchemy import func, select

from shop.models import Grant, Payment, PaymentStatus
from shop.operators import audit
from tests.bot.conftest import ADMIN_ID, OpenShop
from tests.bot.kit import Person, Shop
from tests.factories import plan


async def status(shop: Shop, payment_id: str) -> PaymentStatus:
    async with shop.ctx.sessions() as session:
        payment = await session.get(Payment, payment_id)
    assert payment is not None
    return payment.status


async def grants(shop: Shop) -> int:
    async with shop.ctx.sessions() as session:
        return await session.scalar(select(func.count()).select_from(Grant)) or 0


async def transfer_screen(person: Person, pay: str, plan_name: str, method: str) -> str:
    """Buy → plan → card transfer → pay; returns the payment ID the pay button carried."""
    await person.says("/buy")
    await person.taps(plan_name)
    await person.taps(method)
    payment_id = person.last.button(pay)["callback_data"].split(":", 1)[1]
    await person.taps(pay)
    return payment_id


async def test_transfer_claimed_twice_approved_once_by_the_operator(shop_with: OpenShop) -> None:
    async with shop_with(providers=True) as shop:
        boss = await shop.started(ADMIN_ID, "Boss", "en")
        await plan(shop.ctx.sessions, "Месяц", 30, "199")
        rita = await shop.started(23, "Рита")
        payment_id = await transfer_screen(rita, "Оплатить", "Месяц", "Перевод на карту")
        screen = rita.last
        assert screen.text == (
            "💳 Переведите 199 ₽ по реквизитам:\nCard 2200 0000 0000 0000\n\n"
            "После перевода нажмите «Я оплатил»."
        )
        claim = screen.button("Я оплатил")["callback_data"]
        await rita.taps("Я оплатил", on=screen)
        assert screen.text == "Заявка отправлена! Оператор проверит перевод, обычно это занимает до 15 минут."
        await rita.sends_callback(claim, on=screen)  # a double tap
        told = await shop.tg.wait_for(
            lambda: [m for m in rita.messages if m.text and "Оператор проверяет" in m.text]
        )
        assert told[-1].text == "⏳ Спасибо! Оператор проверяет ваш перевод."

        notices = await shop.tg.wait_for(lambda: [m for m in boss.messages if payment_id in (m.text or "")])
        notice = notices[-1]
        assert notice.text == f"💳 User 23 says they transferred 199.00 RUB (payment {payment_id})."
        assert notice.button_texts == ["✅ Approve", "❌ Decline", f"🔎 {payment_id[:8]} in Temporal"]
        approve, decline = (
            notice.button("Approve")["callback_data"],
            notice.button("Decline")["callback_data"],
        )

        # A customer who replays the operator's button is not an operator: nothing happens.
        mallory = await shop.started(24, "Mallory", "en")
        forged = await mallory.sends_callback(approve)
        assert forged is not None and forged.text == "This button is out of date. Open the menu again: /menu"
        assert await status(shop, payment_id) is PaymentStatus.PENDING

        answer = await boss.taps("Approve", on=notice)
        assert answer is not None and answer.text == "Decision saved."
        assert notice.button_texts == [f"🔎 {payment_id[:8]} in Temporal"]  # decided: the buttons go
        for repeat in (approve, decline):  # a double tap, or a second operator's late decline
            again = await boss.sends_callback(repeat, on=notice)
            assert again is not None and again.text == "This payment was already decided."

        await shop.tg.wait_for(lambda: any(m.photo for m in rita.messages), 30)
        assert await status(shop, payment_id) is PaymentStatus.DELIVERED and await grants(shop) == 1
        assert len([m for m in boss.messages if "says they transferred" in (m.text or "")]) == 1
        assert not [m for m in boss.messages if "💰" in (m.text or "")]  # the sale waits for the digest
        [logged] = (await audit.entries(shop.ctx.sessions))[0]  # the one decision that counted
        assert (logged.action, logged.actor_id, logged.target) == (
            "payment.approve",
            ADMIN_ID,
            f"payment:{payment_id}",
        )


async def test_declined_transfer_and_one_never_claimed(shop_with: OpenShop) -> None:
    async with shop_with(providers=True, p2p_confirm_seconds=2) as shop:
        boss = await shop.started(ADMIN_ID, "Босс")
        await plan(shop.ctx.sessions, "Month", 30, "199")
        sam = await shop.started(25, "Sam", "en")
        silent = await transfer_screen(sam, "Pay", "Month", "Card transfer")
        declined = await transfer_screen(sam, "Pay", "Month", "Card transfer")
        await sam.taps("I have paid")
        notice = (await shop.tg.wait_for(lambda: [m for m in boss.messages if declined in (m.text or "")]))[
            -1
        ]
        assert notice.button_texts[:2] == ["✅ Подтвердить", "❌ Отклонить"]  # in the operator's language
        answer = await boss.taps("Отклонить", on=notice)
        assert answer is not None and answer.text == "Решение сохранено."
        await shop.tg.wait_for(lambda: "could not find your transfer" in (sam.last.text or ""))
        assert await status(shop, declined) is PaymentStatus.CANCELED
        # Nobody said "I have paid" for the other one within the (two-second) window: it expires.
        await shop.tg.wait_for(lambda: [m for m in sam.messages if "expired" in (m.text or "")], 30)
        assert await status(shop, silent) is PaymentStatus.EXPIRED and await grants(shop) == 0


async def test_claimed_transfers_are_listed_for_review_and_decided_from_the_list(shop_with: OpenShop) -> None:
    async with shop_with(providers=True) as shop:
        boss = await shop.started(ADMIN_ID, "Boss", "en")
        await plan(shop.ctx.sessions, "Month", 30, "199")
        tina = await shop.started(27, "Tina", "en")
        unclaimed = await transfer_screen(tina, "Pay", "Month", "Card transfer")
        claimed = await transfer_screen(tina, "Pay", "Month", "Card transfer")
        await tina.taps("I have paid")
        await shop.tg.wait_for(lambda: [m for m in boss.messages if claimed in (m.text or "")])
        await boss.says("/admin")
        await boss.taps("Statistics")
        assert (boss.last.text or "").endswith("Payments waiting for review: 1")
        await boss.taps("Payments to review")
        screen = boss.last
        assert screen.text == (
            f"💳 Payments to review\n• {claimed} · p2p · 199 ₽ · user 27 · transfer waiting for a decision"
        )
        short = claimed[:8]
        assert screen.button_texts == [f"✅ {short}", f"❌ {short}", f"🔎 {short} in Temporal", "← Back"]
        assert unclaimed not in (screen.text or "")  # nobody said it was paid: nothing to decide
        approve = screen.button(f"✅ {short}")["callback_data"]

        mallory = await shop.started(28, "Mallory", "en")
        forged = await mallory.sends_callback(approve)
        assert forged is not None and forged.text == "This button is out of date. Open the menu again: /menu"
        assert await status(shop, claimed) is PaymentStatus.PENDING

        answer = await boss.taps(f"✅ {short}", on=screen)
        assert answer is not None and answer.text == "Decision saved."
        assert screen.text == "No payments are waiting for review."
        again = await boss.sends_callback(approve, on=screen)  # a double tap
        assert again is not None and again.text == "This payment was already decided."
        await shop.tg.wait_for(lambda: any(m.photo for m in tina.messages), 30)
        assert await status(shop, claimed) is PaymentStatus.DELIVERED and await grants(shop) == 1
        await boss.says("/admin")
        await boss.taps("Payments to review")
        assert boss.last.text == "No payments are waiting for review."
