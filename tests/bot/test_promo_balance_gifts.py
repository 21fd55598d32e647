"""Promo codes, the balance and gifts through the real Dispatcher, the Telegram sandbox, the real
PaymentWorkflow and the YooKassa sandbox, in both languages; every bad input gets a clear message
and changes nothing (no choice kept, no use counted, no payment, no money moved)."""

from __future__ import annotations

from decimal import Decimal

import httpx
from sqlalchemy import func, select

from sandbox.panel import SandboxPanel
from shop.access.provisioning import expiry_ms
from shop.balance import ledger
from shop.models import (
    BalanceEntry,
    Gift,
    Payment,
    PaymentStatus,
    PromoChoice,
    PromoCode,
    PromoUse,
    Subscription,
)
from shop.operators.audit import Actor
from shop.panel.identity import parse_email
from shop.promo.catalogue import PromoCatalogue, parse_promo
from tests.bot.conftest import ADMIN_ID, OpenShop
from tests.bot.kit import Person, Shop
from tests.bot.test_buy import access_card
from tests.factories import plan
from tests.panel_fixtures import StartPanel, add_sandbox_host
from workflows.operator import notice_workflow_id

OPERATOR = Actor(ADMIN_ID, "console")
WRONG_PLAN = "Этот промокод не действует на этот тариф. Он снят; выберите снова, чтобы оплатить полную цену."


async def code(shop: Shop, text: str, **fields: str) -> int:
    form = {"code": text, "kind": "percent", "value": "20", "active": "on", "once_per_customer": "on"}
    return await PromoCatalogue(shop.ctx.sessions).create(OPERATOR, parse_promo(form | fields))


async def state(shop: Shop) -> tuple[int, int, int, int, int]:
    """(choices, uses held, codes' counters, payments, balance movements): what bad input must not change."""
    async with shop.ctx.sessions() as session:
        choices = await session.scalar(select(func.count()).select_from(PromoChoice))
        held = await session.scalar(
            select(func.count()).select_from(PromoUse).where(PromoUse.released_at.is_(None))
        )
        counters = await session.scalar(select(func.coalesce(func.sum(PromoCode.used), 0)))
        payments = await session.scalar(select(func.count()).select_from(Payment))
        moves = await session.scalar(select(func.count()).select_from(BalanceEntry))
    return int(choices or 0), int(held or 0), int(counters or 0), int(payments or 0), int(moves or 0)


async def says_and_gets(person: Person, text: str) -> str:
    await person.says(text)
    return person.last.text or ""


async def test_promo_codes_in_russian_bad_ones_change_nothing_and_the_deep_link_discounts_a_card_payment(
    shop_with: OpenShop,
) -> None:
    async with shop_with(providers=True) as shop:
        month = await plan(shop.ctx.sessions, "Месяц", 30, "199", stars=None)
        year = await plan(shop.ctx.sessions, "Год", 365, "1990", stars=None)
        await code(shop, "LAUNCH")
        await code(shop, "OLD", valid_until="2020-01-01T00:00")
        await code(shop, "SOON", valid_from="2999-01-01T00:00")
        await code(shop, "GONE", max_uses="1", once_per_customer="")
        await code(shop, "YEARONLY", plan_ids=str(year.id))
        async with shop.ctx.sessions() as session, session.begin():  # GONE's one use was taken
            gone = await session.scalar(select(PromoCode).where(PromoCode.code == "GONE"))
            assert gone is not None
            gone.used = 1
        olga = await shop.started(31, "Ольга")
        before = await state(shop)
        refusals = {
            "/promo": "Отправьте код после команды, например /promo SPRING.",
            "/promo NOPE": "❌ Такого промокода нет. Проверьте написание; ничего не изменено.",
            "/promo a": "❌ Такого промокода нет. Проверьте написание; ничего не изменено.",
            "/promo old": "⌛ Срок действия промокода истёк. Ничего не изменено.",
            "/promo SOON": "⏳ Этот промокод ещё не действует. Ничего не изменено.",
            "/promo GONE": "😔 Промокод закончился. Ничего не изменено.",
        }
        for sent, expected in refusals.items():
            assert await says_and_gets(olga, sent) == expected, sent
        assert await state(shop) == before

        # A code for another plan: kept when entered, refused at the order, which is not made.
        assert (await says_and_gets(olga, "/promo YEARONLY")).startswith("✅ Промокод YEARONLY применён")
        await olga.says("/buy")
        await olga.taps("Месяц")
        assert "🎟" not in (olga.last.text or "")  # no promo line: it does not apply to this plan
        answer = await olga.taps("Банковская карта")
        assert answer is not None and answer.show_alert
        assert answer.text == WRONG_PLAN
        assert await state(shop) == before

        # The deep link: the code, then the menu; the order carries the discount to YooKassa.
        await olga.says("/start promo_LAUNCH")
        assert any(text.startswith("✅ Промокод LAUNCH применён: −20%") for text in olga.texts[-3:])
        await olga.says("/buy")
        await olga.taps("Месяц")
        assert (olga.last.text or "").endswith("\n🎟 Промокод LAUNCH: −39.80 ₽")
        assert "🎟 Есть промокод?" in olga.last.button_texts
        await olga.taps("Банковская карта")
        order = olga.last
        assert "Сумма: 159.20 ₽\n" in (order.text or "") and (order.text or "").endswith(
            "🎟 Промокод LAUNCH: −39.80 ₽"
        )
        payment_id = order.button("Оплатить")["callback_data"].split(":", 1)[1]
        await olga.taps("Оплатить", on=order)
        url = order.button("Перейти к оплате")["url"]
        assert shop.yookassa.by_order(payment_id)["amount"] == {"value": "159.20", "currency": "RUB"}
        async with httpx.AsyncClient() as browser:
            await browser.get(url)
        await access_card(olga)
        assert (
            await says_and_gets(olga, "/promo LAUNCH")
            == "Вы уже использовали этот промокод. Ничего не изменено."
        )
        assert month.id != year.id


async def on_the_panel(shop: Shop, panel: SandboxPanel, user_id: int) -> None:
    """The customer's client is on the panel, enabled, with the ledger's expiry."""
    async with shop.ctx.sessions() as session:
        sub = await session.scalar(select(Subscription).where(Subscription.user_id == user_id))
    assert sub is not None and sub.expires_at is not None
    wanted = expiry_ms(sub.expires_at)
    found = await shop.tg.wait_for(
        lambda: [
            c
            for _, c in panel.state.all_clients()
            if (parse_email(c["email"]) or (0,))[0] == sub.id and c["expiryTime"] == wanted and c["enable"]
        ],
        60,
    )
    assert len(found) == 1


async def test_have_a_code_and_free_days_in_english(shop_with: OpenShop, start_panel: StartPanel) -> None:
    async with shop_with(providers=True) as shop:
        panel = await start_panel(version="v3.1")
        await add_sandbox_host(shop.ctx, panel, name="Helsinki")
        await plan(shop.ctx.sessions, "Month", 30, "199", stars=None)
        await code(shop, "PLUSWEEK", kind="bonus_days", value="7")
        await code(shop, "SORRY", kind="free_days", value="3")
        ann = await shop.started(32, "Ann", "en")
        await ann.says("/buy")
        await ann.taps("Month")
        await ann.taps("Have a code?")
        assert ann.last.text == "🎟 Send your promo code in a message."
        await ann.says("plusweek")
        applied, screen = ann.texts[-2], ann.last
        assert applied == "✅ Code PLUSWEEK applied: +7 days with your next purchase. Choose a plan: /buy"
        assert (screen.text or "").endswith("\n🎟 Code PLUSWEEK: +7 days") and "Bank card / SBP" in " ".join(
            screen.button_texts
        )

        before = await state(shop)
        await ann.taps("Have a code?")
        await ann.says("NO SUCH")  # bad input in the same flow: said, nothing changed
        assert ann.texts[-2] == "❌ There is no such promo code. Check the spelling; nothing was changed."
        assert await state(shop) == before

        assert (await says_and_gets(ann, "/promo SORRY")).startswith("🎁 Code SORRY activated: +3 days.")
        await on_the_panel(shop, panel, 32)  # now, not at the next reconciliation
        after = await state(shop)
        assert (
            await says_and_gets(ann, "/promo SORRY")
            == "You have already used this promo code. Nothing was changed."
        )
        assert await state(shop) == after


async def test_balance_short_then_paid_top_up_and_a_gift_in_both_languages(
    shop_with: OpenShop, start_panel: StartPanel
) -> None:
    async with shop_with(providers=True, telegram_bot_username="vpnshop_bot") as shop:
        panel = await start_panel(version="v3.1")
        await add_sandbox_host(shop.ctx, panel, name="Helsinki")
        await plan(shop.ctx.sessions, "Month", 30, "199", stars=None)
        ben = await shop.started(33, "Ben", "en")
        await ledger.adjust(shop.ctx.sessions, OPERATOR, 33, Decimal(50), "welcome", "n1")
        await ben.says("/buy")
        await ben.taps("Month")
        assert "💰 From balance" in ben.last.button_texts
        await ben.taps("From balance")
        order = ben.last
        before = await state(shop)
        answer = await ben.taps("Pay", on=order)
        assert answer is not None and answer.show_alert
        assert (
            answer.text
            == "Not enough on your balance for this order. Top up with /balance or choose another method."
        )
        assert await state(shop) == before and await ledger.balance(shop.ctx.sessions, 33) == Decimal(50)

        # Top up 500 by card; then the same order is paid from the balance, exactly once.
        await ben.says("/balance")
        assert (ben.last.text or "").startswith("💰 Balance: 50 ₽")
        await ben.taps("Top up 500 ₽")
        await ben.taps("Bank card")
        assert (ben.last.text or "").startswith("🧾 Top-up\nAmount: 500 ₽")
        await ben.taps("Pay")
        async with httpx.AsyncClient() as browser:
            await browser.get(ben.last.button("Go to payment")["url"])
        await shop.tg.wait_for(
            lambda: any(t.startswith("💰 Your balance was topped up by 500 ₽") for t in ben.texts)
        )
        assert await ledger.balance(shop.ctx.sessions, 33) == Decimal(550)
        pay = order.button("Pay")["callback_data"]
        await ben.taps("Pay", on=order)
        await ben.sends_callback(pay, on=order)  # a double tap: the same payment, debited once
        await access_card(ben)
        assert await ledger.balance(shop.ctx.sessions, 33) == Decimal(351)

        # A gift, paid from the balance; Рита opens it, Иван comes too late, a made-up code is refused.
        await ben.says("/gift")
        await ben.taps("Month")
        await ben.taps("From balance")
        assert (ben.last.text or "").endswith("🎁 A gift: after paying you get a link to pass on.")
        await ben.taps("Pay")
        ready = await shop.tg.wait_for(
            lambda: [t for t in ben.texts if t.startswith("🎁 Your gift is ready")]
        )
        async with shop.ctx.sessions() as session:
            gift = await session.scalar(select(Gift))
        assert gift is not None and f"https://t.me/vpnshop_bot?start=gift_{gift.code}" in ready[-1]
        assert await ledger.balance(shop.ctx.sessions, 33) == Decimal(152)
        assert len(await access_cards_of(ben)) == 1  # a gift gives the payer no days

        rita = await shop.started(34, "Рита")
        await rita.says(f"/start gift_{gift.code}")
        assert any(t.startswith("🎁 Вам подарили 30 дн. VPN! Доступ до") for t in rita.texts[-3:])
        await on_the_panel(shop, panel, 34)
        opened = f"🎁 Your gift {gift.code} was opened by Рита. Thank you!"
        assert await shop.tg.wait_for(lambda: [t for t in ben.texts if t == opened])
        await rita.says(f"/start gift_{gift.code}")  # opened again: she has it; Ben is not told twice
        assert any(t.startswith("🎁") for t in rita.texts[-2:])
        notice = shop.ctx.require_temporal().get_workflow_handle(
            notice_workflow_id(f"gift-opened-{gift.code}")
        )
        assert await notice.result() is True and ben.texts.count(opened) == 1
        ivan = await shop.started(35, "Иван")
        before = await state(shop)
        await ivan.says(f"/start gift_{gift.code}")
        assert "😔 Этот подарок уже открыл кто-то другой." in ivan.texts[-3:]
        await ivan.says("/start gift_NOSUCHCODE")
        assert "❌ Такого подарка нет. Проверьте ссылку; ничего не изменено." in ivan.texts[-3:]
        assert await state(shop) == before
        async with shop.ctx.sessions() as session:
            paid = list(await session.scalars(select(Payment.status)))
        assert sorted(paid) == sorted([PaymentStatus.CREATED] * 0 + [PaymentStatus.DELIVERED] * 3)


async def access_cards_of(person: Person) -> list[str]:
    return [t for t in person.texts if "/sub/" in t]
