"""Bad input gets a friendly answer, changes nothing and crashes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from shop.models import Grant, Payment, PaymentStatus, Plan, User
from tests.bot.conftest import ADMIN_ID, OpenShop
from tests.bot.kit import Shop
from tests.factories import plan


async def counts(shop: Shop) -> tuple[int, ...]:
    async with shop.ctx.sessions() as session:
        return tuple(
            [
                await session.scalar(select(func.count()).select_from(table)) or 0
                for table in (User, Payment, Grant)
            ]
        )


async def test_a_stranger_is_asked_to_start(shop: Shop) -> None:
    zoe = shop.person(41, "Zoe", "en")
    await zoe.says("hello")
    assert zoe.last.text == "Please send /start to begin."
    await zoe.says("/start")
    answer = await zoe.sends_callback("nav:buy", on=zoe.messages[0])
    assert answer is not None and answer.text is None  # registered now: the button works


@pytest.mark.parametrize(
    ("language", "unknown", "free"),
    [
        ("ru", "Такой команды нет. Откройте меню: /menu", "Я не понимаю это сообщение 🤔 Пожалуйста, "
         "пользуйтесь кнопками меню."),
        ("en", "There is no such command. Open the menu: /menu", "I don't understand this message 🤔 "
         "Please use the menu buttons."),
    ],
)  # fmt: skip
async def test_unknown_command_and_free_text(shop: Shop, language: str, unknown: str, free: str) -> None:
    amy = await shop.started(42, "Amy", language)
    before = await counts(shop)
    await amy.says("/teleport")
    assert amy.last.text == unknown
    await amy.says("give me vpn")
    assert amy.last.text == free and len(amy.last.button_texts) == 1
    await amy.taps(amy.last.button_texts[0])
    assert "💳" in amy.last.button_texts[0]  # back on the menu
    assert await counts(shop) == before


@pytest.mark.parametrize(
    "data",
    [
        "nav:nowhere",
        "garbage",
        "plan:abc",
        "plan:999",
        "method:1:bitcoin",
        "pay:",
        "pay:../../etc",
        "paid:" + "f" * 41,
        "lang:de",
        "howto:amiga",
        "x" * 64,
    ],
)
async def test_stale_or_forged_buttons(shop: Shop, data: str) -> None:
    await plan(shop.ctx.sessions)
    ben = await shop.started(43, "Ben", "en")
    before = await counts(shop)
    answer = await ben.sends_callback(data)
    assert answer is not None and answer.show_alert
    assert answer.text == "This button is out of date. Open the menu again: /menu"
    assert await counts(shop) == before


async def test_a_plan_withdrawn_after_the_list_was_shown(shop: Shop) -> None:
    plan_id = (await plan(shop.ctx.sessions, "Month")).id
    cleo = await shop.started(44, "Cleo", "ru")
    await cleo.taps("Купить подписку")
    plans = cleo.last
    async with shop.ctx.sessions() as session, session.begin():
        row = await session.get(Plan, plan_id)
        assert row is not None
        row.active = False
    answer = await cleo.taps("Month", on=plans)
    assert answer is not None and answer.text == "Эта кнопка устарела. Откройте меню заново: /menu"


async def test_another_customers_payment_and_a_banned_customer_paying(shop_with: OpenShop) -> None:
    async with shop_with(providers=True) as shop:
        boss = await shop.started(ADMIN_ID, "Boss", "en")
        await plan(shop.ctx.sessions, "Month", 30, "199", stars=150)
        sam = await shop.started(24, "Sam", "en")
        await sam.says("/buy")
        await sam.taps("Month")
        await sam.taps("Telegram Stars")
        order = sam.last
        stolen = order.button("Pay")["callback_data"]
        payment_id = stolen.split(":", 1)[1]
        await sam.taps("Pay", on=order)
        invoice = sam.last
        tom = await shop.started(25, "Tom", "ru")
        before = await counts(shop)
        for data in (stolen, f"paid:{payment_id}"):  # his pay button, an "I have paid" for it
            answer = await tom.sends_callback(data)
            assert answer is not None and answer.show_alert and answer.text == "Этот платёж не найден."
        assert not [m for m in tom.messages if m.invoice]

        await boss.says("/find 24")
        await boss.taps("Ban")
        banned = "⛔ Your access to this bot is blocked. If you think this is a mistake, contact support."
        answer = await sam.taps("Pay", on=order)
        assert answer is not None and answer.text == banned
        assert await shop.tg.pay(24, invoice) is None  # the invoice sent before the ban: no money taken
        assert shop.tg.calls("answerPreCheckoutQuery")[-1]["error_message"] == banned
        assert await counts(shop) == before
        async with shop.ctx.sessions() as session:
            payment = await session.get(Payment, payment_id)
        assert payment is not None and payment.status is PaymentStatus.CREATED


async def test_a_payment_link_not_ready_yet_asks_to_tap_again_and_changes_nothing(
    shop_with: OpenShop,
) -> None:
    async with shop_with(providers=True) as shop:
        await plan(shop.ctx.sessions, "Month", 30, "199")
        una = await shop.started(26, "Una", "en")
        await una.says("/buy")
        await una.taps("Month")
        await una.taps("Bank card")
        order = una.last
        text, buttons = order.text, order.button_texts
        # YooKassa fails every creation attempt until the test lets it answer: the workflow keeps
        # retrying, and the bot's eight-second wait for the link runs out first however slow the
        # machine (four failures only, as before, let a slow run's retries get the link in time).
        shop.yookassa.faults = [(500, False)] * 1000
        # The handler itself waits 8 s; on a machine busy with other tests it may take twice that.
        answer = await una.taps("Pay", on=order, within=60)
        assert answer is not None and answer.show_alert
        assert answer.text == "We could not take this payment right now; please try again in a minute."
        assert (order.text, order.button_texts, una.last) == (text, buttons, order)  # the order stays
        payment_id = order.button("Pay")["callback_data"].split(":", 1)[1]
        async with shop.ctx.sessions() as session:
            payment = await session.get(Payment, payment_id)
            grants = await session.scalar(select(func.count()).select_from(Grant))
        assert payment is not None and (payment.status, payment.confirmation_url, grants) == (
            PaymentStatus.CREATED,
            None,
            0,
        )
        assert shop.yookassa.payments == {}
        # Once YooKassa answers again, a tap gets the link of the same one payment as soon as the
        # workflow's next attempt (its back-off grows to 30 s) has made it; before, "try again".
        shop.yookassa.faults = []
        for _ in range(8):
            await una.taps("Pay", on=order, within=60)
            if any("Go to payment" in label for label in order.button_texts):
                break
        url = order.button("Go to payment")["url"]
        assert [p["confirmation"]["confirmation_url"] for p in shop.yookassa.payments.values()] == [url]
