"""The referral screen and withdrawals through the real bot: the link and numbers in both languages,
the withdrawal flow (details typed, confirmed, sent to the operators), the first decision counting,
a decline freeing the balance, bad input, and the program switched off."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from shop.customers import referrals
from shop.models import PaymentMethod, Withdrawal, WithdrawalStatus
from shop.operators import audit
from tests.bot.conftest import ADMIN_ID, OpenShop
from tests.bot.kit import Person, Shop
from tests.factories import delivered_payment, plan

LINK = "https://t.me/sandbox_shop_bot?start=ref_{}"


async def earn(shop: Shop, referrer: int, invitee: int, purchases: int, price: str = "500.00") -> None:
    """`purchases` delivered payments of an invitee, each rewarded as the payment workflow does."""
    for _ in range(purchases):
        payment = await delivered_payment(
            shop.ctx.sessions, await shop.ctx.storefront.current(), invitee, price=price
        )
        await referrals.record_reward(shop.ctx.sessions, await shop.ctx.storefront.current(), payment.id)


async def withdrawals(shop: Shop) -> list[tuple[Decimal, WithdrawalStatus, str]]:
    async with shop.ctx.sessions() as session:
        rows = await session.scalars(select(Withdrawal).order_by(Withdrawal.id))
        return [(row.amount, row.status, row.details) for row in rows]


@pytest.mark.parametrize(
    ("language", "button", "expected"),
    [
        (
            "ru",
            "Реферальная программа",
            "🤝 Реферальная программа\n\nПриглашайте друзей по своей ссылке и получайте 10% с каждой их "
            "покупки. Друзьям — скидка 5% на первую покупку.\n\nВаша ссылка:\n{link}\n\nПриглашено: 2\n"
            "Совершили покупку: 1\nБаланс: 18.91 ₽\nЗаработано всего: 18.91 ₽\n\n"
            "Вывод доступен от 100 ₽: осталось накопить 81.09 ₽.",
        ),
        (
            "en",
            "Referral program",
            "🤝 Referral program\n\nInvite friends with your link and get 10% of every purchase they make. "
            "Your friends get 5% off their first purchase.\n\nYour link:\n{link}\n\nInvited: 2\n"
            "Made a purchase: 1\nBalance: 18.91 ₽\nEarned in total: 18.91 ₽\n\n"
            "Withdrawals start at 100 ₽: 81.09 ₽ to go.",
        ),
    ],
)
async def test_the_referral_screen_in_both_languages(
    shop: Shop, language: str, button: str, expected: str
) -> None:
    rosa = await shop.started(51, "Rosa", language)
    for friend in (52, 53):
        await shop.person(friend, f"Friend {friend}").says(f"/start ref_{51}")
    # 199 ₽ less the invitee's 5 % is 189.05 ₽; 10 % of it is 18.91 ₽.
    await earn(shop, 51, 52, 1, price="199.00")
    await rosa.taps(button)
    screen = rosa.last
    assert screen.text == expected.format(link=LINK.format(51))
    assert screen.button_texts[-1] in ("← Назад", "← Back") and len(screen.button_texts) == 2  # no withdraw
    assert screen.button(screen.button_texts[0])["copy_text"]["text"] == LINK.format(51)
    # The bot's username is asked once and kept: opening the screen again calls getMe no more.
    asked = len(shop.tg.calls("getMe"))
    await rosa.taps(screen.button_texts[-1], on=screen)
    await rosa.taps(button)
    assert len(shop.tg.calls("getMe")) == asked and rosa.last.text == expected.format(link=LINK.format(51))


async def test_withdrawal_details_confirmation_and_one_approval(shop: Shop) -> None:
    boss = await shop.started(ADMIN_ID, "Boss", "en")
    ivan = await shop.started(54, "Ivan", "ru", username="ivan")
    await shop.person(56, "Friend").says("/start ref_54")
    await earn(shop, 54, 56, 3)  # 47.50 + 50 + 50: the first purchase had the 5 % discount
    await ivan.taps("Реферальная программа")
    assert (ivan.last.text or "").endswith("💸 Баланс можно вывести (от 100 ₽).")
    await ivan.taps("Вывести средства")
    prompt = ivan.last
    assert (prompt.text or "").startswith("💸 Вывод 147.50 ₽\n\nОтправьте одним сообщением реквизиты")
    assert prompt.button_texts == ["Отмена"]

    for bad in ("1234", "x" * 201):  # too short, too long: asked again, nothing recorded
        await ivan.says(bad)
        assert ivan.last.text == "Реквизиты — это текст от 5 до 200 символов. Отправьте ещё раз или /cancel."
    await ivan.says("Сбер <карта> 2200 0000 0000 0001")
    confirm = ivan.last
    assert confirm.text == (
        "💸 Проверьте заявку\n\nСумма: 147.50 ₽\nРеквизиты: Сбер <карта> 2200 0000 0000 0001\n\nВсё верно?"
    )
    send = confirm.button("Отправить заявку")["callback_data"]
    await ivan.taps("Отправить заявку", on=confirm)
    assert confirm.text == (
        "✅ Заявка №1 на вывод 147.50 ₽ отправлена. Напишем, когда оператор её рассмотрит."
    )
    again = await ivan.sends_callback(send, on=confirm)  # a double tap sends nothing more
    assert again is not None and again.text == "Эта кнопка устарела. Откройте меню заново: /menu"
    assert await withdrawals(shop) == [
        (Decimal("147.50"), WithdrawalStatus.REQUESTED, "Сбер <карта> 2200 0000 0000 0001")
    ]

    notice = boss.last
    assert notice.text == (
        "💸 Withdrawal request #1: 147.50 ₽\nFrom: @ivan (54)\nDetails: Сбер <карта> 2200 0000 0000 0001"
    )
    assert notice.button_texts == ["✅ Approve", "❌ Decline"]
    approve, decline = notice.button("Approve")["callback_data"], notice.button("Decline")["callback_data"]
    # A customer replaying the operator's button, forged data, an unknown request: nothing happens.
    mallory = await shop.started(57, "Mallory", "en")
    forged = await mallory.sends_callback(approve)
    assert forged is not None and forged.text == "This button is out of date. Open the menu again: /menu"
    for data, answer in (
        ("wdd:abc:1:0", "This button is out of date. Open the menu again: /menu"),
        ("wdd:0:1:0", "This button is out of date. Open the menu again: /menu"),
        ("wdd:99999:1:0", "Request not found."),
    ):
        tampered = await boss.sends_callback(data, on=notice)
        assert tampered is not None and tampered.text == answer
    assert (await withdrawals(shop))[0][1] is WithdrawalStatus.REQUESTED

    decided = await boss.taps("Approve", on=notice)
    assert decided is not None and decided.text == "Decision saved."
    assert notice.button_texts == []  # decided: the buttons go
    for repeat in (approve, decline):  # a double tap, or a second operator's late decline
        late = await boss.sends_callback(repeat, on=notice)
        assert late is not None and late.text == "This request was already decided."
    assert ivan.last.text == "✅ Заявка №1 на вывод 147.50 ₽ одобрена: деньги отправлены по вашим реквизитам."
    assert await withdrawals(shop) == [
        (Decimal("147.50"), WithdrawalStatus.APPROVED, "Сбер <карта> 2200 0000 0000 0001")
    ]
    await ivan.says("/menu")
    await ivan.taps("Реферальная программа")
    assert "Баланс: 0 ₽\nЗаработано всего: 147.50 ₽" in (ivan.last.text or "")
    assert "Вывести средства" not in " ".join(ivan.last.button_texts)
    [logged] = (await audit.entries(shop.ctx.sessions))[0]
    assert (logged.action, logged.actor_id, logged.before) == (
        "withdrawal.approve",
        ADMIN_ID,
        {"status": "requested"},
    )


async def request(person: Person, details: str, withdraw: str, send: str, title: str) -> None:
    await person.says("/menu")
    await person.taps(title)
    await person.taps(withdraw)
    await person.says(details)
    await person.taps(send)


async def test_decline_from_the_admin_list_frees_the_balance(shop: Shop) -> None:
    boss = await shop.started(ADMIN_ID, "Босс", "ru")
    nina = await shop.started(58, "Nina", "en")
    await shop.person(59, "Friend").says("/start ref_58")
    await earn(shop, 58, 59, 1, price="2000.00")  # 10 % of 1900 ₽
    await request(nina, "PayPal nina@example.com", "Withdraw", "Send request", "Referral program")
    await boss.says("/admin")
    await boss.taps("Заявки на вывод")
    listing = boss.last
    assert listing.text == "💸 Заявки на вывод\n• №1 · 190 ₽ · 58 · PayPal nina@example.com"
    assert listing.button_texts == ["✅ №1", "❌ №1", "← Назад"]
    answer = await boss.taps("❌ №1", on=listing)
    assert answer is not None and answer.text == "Решение сохранено."
    assert listing.text == "Нет заявок на вывод." and listing.button_texts == ["← Назад"]
    assert nina.last.text == (
        "❌ Withdrawal request #1 for 190 ₽ declined; the amount is back on your referral balance. "
        "Write to support if you have questions."
    )
    # The operator's notice of that request now refuses a decision.
    late = await boss.taps("Подтвердить", on=boss.with_button("Подтвердить"))
    assert late is not None and late.text == "Эта заявка уже рассмотрена."
    await nina.says("/menu")
    await nina.taps("Referral program")
    assert "Balance: 190 ₽\nEarned in total: 190 ₽" in (nina.last.text or "")
    await request(nina, "PayPal nina@example.com", "Withdraw", "Send request", "Referral program")
    assert [status for _, status, _ in await withdrawals(shop)] == [
        WithdrawalStatus.DECLINED,
        WithdrawalStatus.REQUESTED,
    ]


async def test_below_the_minimum_and_leaving_the_flow(shop: Shop) -> None:
    olga = await shop.started(60, "Olga", "en")
    await shop.person(61, "Friend").says("/start ref_60")
    await earn(shop, 60, 61, 1)  # 47.50 ₽
    await olga.taps("Referral program")
    screen = olga.last
    assert (screen.text or "").endswith("Withdrawals start at 100 ₽: 52.50 ₽ to go.")
    assert "Withdraw" not in " ".join(screen.button_texts)
    forged = await olga.sends_callback("wd:start", on=screen)  # an old button, or forged
    assert forged is not None and forged.text == "Withdrawals start at 100 ₽."

    await earn(shop, 60, 61, 2)
    await olga.says("/menu")
    await olga.taps("Referral program")
    await olga.taps("Withdraw")
    await olga.says("/cancel")
    assert olga.messages[-2].text == "Withdrawal canceled." and "Balance: 147.50 ₽" in (olga.last.text or "")
    await olga.says("Card 2200 0000 0000 0002")  # no longer in the flow: just text
    assert (olga.last.text or "").startswith("I don't understand this message")
    # Another command in the middle of the flow works, and ends the flow.
    await olga.taps("Withdraw")
    await olga.says("/buy")
    assert olga.last.text == "🌍 Choose a plan (all servers, one link):"
    await olga.says("Card 2200 0000 0000 0002")
    assert (olga.last.text or "").startswith("I don't understand this message")
    # So does the cancel button, and any other button.
    await olga.says("/menu")
    await olga.taps("Referral program")
    await olga.taps("Withdraw")
    await olga.taps("Cancel")
    assert (olga.last.text or "").startswith("🤝 Referral program")
    await olga.taps("Withdraw")
    await olga.sends_callback("nav:menu")
    assert (olga.last.text or "").startswith("🏠 Main menu")
    await olga.says("Card 2200 0000 0000 0002")
    assert (olga.last.text or "").startswith("I don't understand this message")
    assert await withdrawals(shop) == []


async def test_a_switched_off_program_says_so_once(shop_with: OpenShop) -> None:
    async with shop_with(referrals_enabled=False) as shop:
        pia = await shop.started(62, "Pia", "en")
        await shop.person(63, "Friend").says("/start ref_62")
        assert "🤝 Referral program" not in pia.last.button_texts
        payment = await delivered_payment(
            shop.ctx.sessions, await shop.ctx.storefront.current(), 63, PaymentMethod.P2P
        )
        assert payment.discount_percent == 0 and payment.amount == Decimal("199.00")
        assert (
            await referrals.record_reward(shop.ctx.sessions, await shop.ctx.storefront.current(), payment.id)
            is None
        )
        for data in ("nav:ref", "wd:start"):  # buttons from before it was switched off
            answer = await pia.sends_callback(data)
            assert answer is not None and answer.text == "❌ The referral program is not available right now."
        async with shop.ctx.sessions() as session:
            assert await session.scalar(select(func.count()).select_from(Withdrawal)) == 0


async def test_a_stars_payment_in_the_middle_of_the_flow_is_still_taken(shop_with: OpenShop) -> None:
    async with shop_with(stars_enabled=True) as shop:
        await plan(shop.ctx.sessions, "Month", 30, "199", stars=150)
        quinn = await shop.started(64, "Quinn", "en")
        await shop.person(65, "Friend").says("/start ref_64")
        await earn(shop, 64, 65, 3)
        await quinn.says("/buy")
        await quinn.taps("Month")
        await quinn.taps("Telegram Stars")
        await quinn.taps("Pay")
        [invoice] = [m for m in quinn.messages if m.invoice]
        await quinn.says("/menu")
        await quinn.taps("Referral program")
        await quinn.taps("Withdraw")
        assert await shop.tg.pay(64, invoice) is not None  # successful_payment while typing details
        await shop.tg.wait_for(lambda: any(m.photo for m in quinn.messages), 30)  # the access card
        await quinn.says("Card 2200 0000 0000 0003")  # still in the flow
        assert (quinn.last.text or "").startswith("💸 Check your request")
