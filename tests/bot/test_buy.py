"""Buying and renewing through the bot, the real PaymentWorkflow and the payment sandboxes: a card
(YooKassa's confirmation page), Crypto Pay, Telegram Stars; the access card at the end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, select

from sandbox.telegram import SentMessage
from shop.access.ledger import grant
from shop.customers.accounts import ensure_subscription
from shop.customers.users import access_of
from shop.models import Grant, GrantKind, Payment, PaymentStatus, utcnow
from tests.bot.conftest import ADMIN_ID, OpenShop
from tests.bot.kit import Person, Shop
from tests.factories import plan
from tests.panel_fixtures import StartPanel, add_sandbox_host
from workflows.expiry import ExpiryScanInput, ExpiryScanWorkflow
from workflows.sales_digest import SalesDigestInput, SalesDigestWorkflow


async def payments(shop: Shop) -> list[Payment]:
    async with shop.ctx.sessions() as session:
        return list(await session.scalars(select(Payment).order_by(Payment.created_at)))


async def grants(shop: Shop) -> int:
    async with shop.ctx.sessions() as session:
        return await session.scalar(select(func.count()).select_from(Grant)) or 0


def cards(person: Person) -> list[SentMessage]:
    """The access cards the customer got: the message with the copy-link button."""
    return [m for m in person.messages if any("copy_text" in button for button in m.buttons)]


async def access_card(person: Person, cards_before: int = 0) -> tuple[str, str]:
    """Waits for the access card (and its QR code) the payment's workflow sends; returns the card's
    text and the link its copy button copies."""
    await person.shop.tg.wait_for(lambda: len(cards(person)) > cards_before, 30)
    card = cards(person)[-1]  # one message: the QR code with the card as its caption
    assert card.caption is not None and card.photo is not None
    return card.caption, card.button(card.button_texts[0])["copy_text"]["text"]


async def test_no_plans_and_no_payment_methods(shop: Shop) -> None:
    olga = await shop.started(21, "Olga")
    await olga.taps("Купить подписку")
    assert olga.last.text == "Сейчас нет доступных тарифов. Загляните позже."
    await plan(shop.ctx.sessions, "Месяц", 30, "199")
    await olga.says("/buy")
    assert olga.last.button_texts == ["Месяц · 30 дн. — 199 ₽", "← Назад"]
    await olga.taps("Месяц")
    assert olga.last.text is not None and olga.last.text.startswith("Сейчас нет доступных способов оплаты")
    assert olga.last.button_texts == ["← Назад"]


async def test_card_payment_then_crypto_renewal_on_the_same_link(
    shop_with: OpenShop, start_panel: StartPanel
) -> None:
    async with shop_with(providers=True) as shop:
        panel = await start_panel(version="v2")
        await add_sandbox_host(shop.ctx, panel, name="Frankfurt")
        boss = await shop.started(ADMIN_ID, "Boss", "en")
        await plan(shop.ctx.sessions, "Месяц", 30, "199", stars=None)
        rita = await shop.started(23, "Рита")
        await rita.taps("Купить подписку")
        await rita.taps("Месяц")
        assert rita.last.button_texts == [  # no Stars price for this plan: no Stars
            "🏦 Банковская карта / СБП", "🤖 CryptoBot", "💳 Перевод на карту (P2P)", "← Назад",
        ]  # fmt: skip
        await rita.taps("Банковская карта")
        order = rita.last
        assert order.text is not None and "Сумма: 199 ₽" in order.text
        pay = order.button("Оплатить")["callback_data"]
        await rita.taps("Оплатить", on=order)
        url = order.button("Перейти к оплате")["url"]
        await rita.sends_callback(pay, on=order)  # a double tap: the same payment, the same link
        assert order.button("Перейти к оплате")["url"] == url and len(shop.yookassa.payments) == 1
        async with httpx.AsyncClient() as browser:  # the customer pays on YooKassa's page
            assert (await browser.get(url)).json()["status"] == "succeeded"

        text, link = await access_card(rita)
        access = await access_of(shop.ctx.sessions, 23)
        assert text.startswith("🎉 Подписка активирована!") and link in text
        assert link == f"{shop.ctx.settings.base_url}/sub/{access.token}"
        assert cards(rita)[-1].button_texts == [
            "📋 Скопировать ссылку", "📱 QR-код", "📖 Как подключиться", "🏠 Главное меню",
        ]  # fmt: skip
        [first] = await payments(shop)
        assert first.status is PaymentStatus.DELIVERED and [c["enable"] for c in panel.clients()] == [True]
        # The operator hears of the sale in the next sales digest, not in a message of its own.
        assert [m for m in boss.messages if first.id in (m.text or "")] == []
        until = datetime.now(UTC) + timedelta(seconds=1)
        await shop.ctx.require_temporal().execute_workflow(
            SalesDigestWorkflow.run,
            SalesDigestInput(minutes=10, until=until),
            id=f"sales-digest-{first.id}",
            task_queue=shop.ctx.settings.temporal_task_queue,
        )
        sales = [m.text or "" for m in boss.messages if first.id in (m.text or "")]
        assert len(sales) == 1 and sales[0].endswith(f"\n• {first.id}: 199 ₽ via yookassa, user 23")
        assert sales[0].startswith("💰 Sales ") and ": 1, 199 ₽\n" in sales[0]

        # Renewal from the subscription screen, with Crypto Pay: 30 more days, the same link.
        await rita.says("/subscription")
        await rita.taps("Продлить подписку")
        assert (rita.last.text or "").startswith("ℹ️ У вас уже есть активная подписка до")
        await rita.taps("Месяц")
        await rita.taps("CryptoBot")
        await rita.taps("Оплатить")
        assert rita.last.button("Перейти к оплате")["url"].startswith("https://t.me/CryptoBot")
        second = (await payments(shop))[-1]
        shop.cryptopay.pay(shop.cryptopay.by_payload(second.id)["invoice_id"])
        _, renewed_link = await access_card(rita, cards_before=1)
        renewed = await access_of(shop.ctx.sessions, 23)
        assert renewed_link == link and renewed.token == access.token
        assert access.expires_at is not None and renewed.expires_at == access.expires_at + timedelta(days=30)
        assert [c["enable"] for c in panel.clients()] == [True]  # the same client, still one
        assert await grants(shop) == 2


async def test_stars_invoice_double_tap_and_a_paid_order(shop_with: OpenShop) -> None:
    async with shop_with(providers=True) as shop:
        await plan(shop.ctx.sessions, "Month", 30, "199", stars=150)
        await plan(shop.ctx.sessions, "Year", 365, "1990.50", stars=1500)
        paul = await shop.started(22, "Paul", "en")
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
        assert order.text is not None and "Method: ⭐ Telegram Stars" in order.text
        payment_id = order.button("Pay")["callback_data"].split(":", 1)[1]
        await paul.taps("Pay", on=order)
        await paul.taps("Pay", on=order)  # a double tap: the same payment, the same invoice
        invoices = [m.invoice for m in paul.messages if m.invoice]
        assert [(i.payload, i.currency, i.total_amount) for i in invoices] == [(payment_id, "XTR", 150)] * 2
        assert [p.id for p in await payments(shop)] == [payment_id]
        charge = await shop.tg.pay(22, invoices[0])
        assert charge is not None
        text, link = await access_card(paul)
        assert text.startswith("🎉 Your subscription is active!") and "Valid until:" in text
        assert cards(paul)[-1].button_texts == [
            "📋 Copy link",
            "📱 QR code",
            "📖 How to connect",
            "🏠 Main menu",
        ]
        # The order is paid: its button and its other invoice are refused, nothing is charged twice.
        answer = await paul.taps("Pay", on=order)
        assert answer is not None and answer.show_alert
        assert answer.text == "This payment is already finished. Start a new purchase from the menu."
        assert await shop.tg.pay(22, invoices[1]) is None
        assert await grants(shop) == 1 and link.endswith(str((await access_of(shop.ctx.sessions, 22)).token))


@pytest.mark.parametrize(
    ("language", "renew", "reminder", "plans"),
    [
        ("ru", "Продлить подписку", "⏳ Ваша VPN подписка закончится", "🌍 Выберите тариф"),
        ("en", "Renew subscription", "⏳ Your VPN subscription ends", "🌍 Choose a plan"),
    ],
)
async def test_the_reminders_renew_button_opens_the_plans_below_it(
    shop: Shop, language: str, renew: str, reminder: str, plans: str
) -> None:
    await plan(shop.ctx.sessions, "Month", 30, "199")
    vera = await shop.started(26, "Vera", language)
    subscription = await ensure_subscription(shop.ctx.sessions, 26)
    bought = utcnow() - timedelta(days=30) + timedelta(hours=20)  # ends in 20 hours
    await grant(
        shop.ctx.sessions, subscription.id, "pay:1", timedelta(days=30), GrantKind.PURCHASE, "t", bought
    )
    queue = shop.ctx.settings.temporal_task_queue
    report = await shop.ctx.require_temporal().execute_workflow(
        ExpiryScanWorkflow.run, ExpiryScanInput(), id=f"expiry-scan:{queue}", task_queue=queue
    )
    assert report.sent == 1
    sent = vera.last
    assert sent.text is not None and sent.text.startswith(reminder)
    await vera.taps(renew, on=sent)
    assert vera.last.message_id != sent.message_id and plans in (vera.last.text or "")
    assert vera.last.button_texts[0].startswith("Month")
    assert vera.messages[-2].text == sent.text and renew in vera.messages[-2].button_texts[0]  # it stays


async def test_start_renew_opens_the_plans(shop: Shop) -> None:
    """The Renew button of the /sub page links to t.me/<bot>?start=renew: the plans, not the menu."""
    await plan(shop.ctx.sessions, "Месяц", 30, "199")
    returning = await shop.started(23, "Rita")
    await returning.says("/start renew")
    assert returning.last.text is not None and returning.last.text.startswith("🌍 Выберите тариф")
    assert returning.last.button_texts == ["Месяц · 30 дн. — 199 ₽", "← Назад"]
    newcomer = shop.person(24, "Nina", language="en")
    await newcomer.says("/start renew")
    assert newcomer.last.text is not None and newcomer.last.text.startswith("🌍 Choose a plan")
