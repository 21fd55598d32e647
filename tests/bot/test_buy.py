"""Buying and renewing, up to the payments area's boundary (`Checkout`, here its stand-in)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from shop.accounts import ensure_subscription
from shop.ledger import grant
from shop.models import GrantKind, Payment, PaymentMethod, PaymentStatus
from tests.bot.checkout_standin import StandInCheckout
from tests.bot.conftest import ADMIN_ID, OpenShop
from tests.bot.kit import Person, Shop
from tests.conftest import Database
from tests.factories import plan

ALL_METHODS = [PaymentMethod.YOOKASSA, PaymentMethod.CRYPTOPAY, PaymentMethod.STARS, PaymentMethod.P2P]


async def started(shop: Shop, user_id: int, name: str, language: str = "ru") -> Person:
    person = shop.person(user_id, name, language)
    await person.says("/start")
    return person


async def payments(shop: Shop) -> int:
    async with shop.ctx.sessions() as session:
        return await session.scalar(select(func.count()).select_from(Payment)) or 0


async def test_no_plans_and_no_payment_methods(shop: Shop) -> None:
    olga = await started(shop, 21, "Olga")
    await olga.taps("Купить подписку")
    assert olga.last.text == "Сейчас нет доступных тарифов. Загляните позже."
    await plan(shop.ctx.sessions, "Месяц", 30, "199")
    await olga.says("/buy")
    assert olga.last.button_texts == ["Месяц · 30 дн. — 199 ₽", "← Назад"]
    await olga.taps("Месяц")
    assert olga.last.text is not None and olga.last.text.startswith("Сейчас нет доступных способов оплаты")
    assert olga.last.button_texts == ["← Назад"]


async def test_plans_methods_order_and_stars_invoice_with_double_tap(
    shop_with: OpenShop, sqlite_db: Database
) -> None:
    checkout = StandInCheckout(sqlite_db.sessions, ALL_METHODS)
    async with shop_with(checkout=checkout) as shop:
        await plan(shop.ctx.sessions, "Month", 30, "199", stars=150)
        await plan(shop.ctx.sessions, "Year", 365, "1990.50", stars=1500)
        paul = await started(shop, 22, "Paul", "en")
        await paul.taps("Buy a subscription")
        assert paul.last.text == "🌍 Choose a plan (all servers, one link):"
        assert paul.last.button_texts == ["Month · 30 days — 199 ₽", "Year · 365 days — 1990.50 ₽", "← Back"]
        await paul.taps("Month")
        assert paul.last.text == "📦 Month · 30 days — 199 ₽\n\nChoose a payment method:"
        assert paul.last.button_texts == [
            "🏦 Bank card / SBP", "🤖 CryptoBot", "⭐ Telegram Stars", "💳 Card transfer (P2P)", "← Back",
        ]  # fmt: skip
        await paul.taps("Telegram Stars")
        order = paul.last
        assert (
            order.text is not None
            and "Amount: 199 ₽" in order.text
            and "Method: ⭐ Telegram Stars" in order.text
        )
        pay_data = order.button("Pay")["callback_data"]
        payment_id = pay_data.split(":", 1)[1]
        # A double tap: the same button twice reaches the same payment.
        await paul.taps("Pay", on=order)
        await paul.sends_callback(pay_data, on=order)
        invoices = [m.invoice for m in paul.messages if m.invoice]
        assert [(i.payload, i.currency, i.total_amount) for i in invoices] == [(payment_id, "XTR", 150)] * 2
        assert invoices[0].title == "Month" and invoices[0].description == "Access to all servers for 30 days"
        assert checkout.pay_calls == {payment_id: 2}
        assert await payments(shop) == 1


async def test_link_and_p2p_payments_and_the_extend_notice(shop_with: OpenShop, sqlite_db: Database) -> None:
    checkout = StandInCheckout(sqlite_db.sessions, ALL_METHODS)
    async with shop_with(checkout=checkout) as shop:
        boss = await started(shop, ADMIN_ID, "Boss", "en")
        await plan(shop.ctx.sessions, "Месяц", 30, "199")
        rita = await started(shop, 23, "Рита")
        subscription = await ensure_subscription(shop.ctx.sessions, 23)
        await grant(
            shop.ctx.sessions, subscription.id, "pay:earlier", timedelta(days=10), GrantKind.PURCHASE, "t"
        )
        await rita.says("/buy")
        assert rita.last.text is not None and rita.last.text.startswith(
            "ℹ️ У вас уже есть активная подписка до"
        )
        assert "ссылка останется прежней" in rita.last.text
        await rita.taps("Месяц")
        await rita.taps("Банковская карта")
        await rita.taps("Оплатить")
        assert rita.last.button("Перейти к оплате")["url"].startswith("https://pay.example/")
        await rita.taps("Назад")
        assert (rita.last.text or "").startswith("🏠 Главное меню")
        await rita.taps("Продлить подписку")
        await rita.taps("Месяц")
        await rita.taps("P2P")
        await rita.taps("Оплатить")
        assert rita.last.text is not None and "2200 0000 0000 0000" in rita.last.text
        transfer = rita.last
        await rita.taps("Я оплатил", on=transfer)
        assert (
            rita.last.text == "Заявка отправлена! Оператор проверит перевод, обычно это занимает до 15 минут."
        )
        notices = [m for m in boss.messages if (m.text or "").startswith("💳 New P2P transfer")]
        assert len(notices) == 1
        # The admin reviews it; a second decision on the same payment is refused.
        await boss.says("/admin")
        await boss.taps("Payments to review")
        assert "Рита" not in (boss.last.text or "") and "p2p · 199 ₽ · user 23" in (boss.last.text or "")
        review = boss.last
        approve = await boss.taps("✅", on=review)
        assert approve is not None and approve.text == "Decision saved."
        again = await boss.taps("✅", on=review)
        assert again is not None and again.text == "This payment was already decided."
        async with shop.ctx.sessions() as session:
            statuses = list(await session.scalars(select(Payment.status).order_by(Payment.created_at)))
        assert statuses == [PaymentStatus.CREATED, PaymentStatus.SUCCEEDED]
        assert review.button("in Temporal")["url"].startswith(f"{shop.ctx.settings.temporal_web}/namespaces/")


async def test_another_users_payment_id_is_refused(shop_with: OpenShop, sqlite_db: Database) -> None:
    checkout = StandInCheckout(sqlite_db.sessions, [PaymentMethod.STARS])
    async with shop_with(checkout=checkout) as shop:
        await plan(shop.ctx.sessions, "Month", 30, "199")
        sam = await started(shop, 24, "Sam", "en")
        await sam.taps("Buy a subscription")
        await sam.taps("Month")
        await sam.taps("Telegram Stars")
        stolen = sam.last.button("Pay")["callback_data"]
        tom = await started(shop, 25, "Tom", "en")
        answer = await tom.sends_callback(stolen)
        assert answer is not None and answer.text == "This payment was not found." and answer.show_alert
        assert not [m for m in tom.messages if m.invoice] and checkout.pay_calls == {}
        forged = await tom.sends_callback("method:99:stars")
        assert forged is not None and forged.text == "This button is out of date. Open the menu again: /menu"
        assert await payments(shop) == 1
