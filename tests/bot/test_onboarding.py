"""/start, registration and referrals, onboarding (terms, forced channel), menu, language."""

from __future__ import annotations

import pytest

from bot.main import publish_commands
from shop.customers.users import get_customer, referrer_of
from tests.bot.conftest import ADMIN_ID, OpenShop
from tests.bot.kit import Shop


async def test_start_in_russian_registers_and_shows_the_menu(shop: Shop) -> None:
    anna = shop.person(101, "Анна", "ru", username="anna")
    await anna.says("/start")
    welcome, menu = anna.messages
    assert welcome.text == "👋 Добро пожаловать в vpnshop, Анна!"
    assert welcome.keyboard_texts == ["🏠 Главное меню"]
    assert menu.text is not None and "Главное меню" in menu.text and "Подписки пока нет." in menu.text
    assert menu.button_texts == [
        "💳 Купить подписку",
        "🎁 Попробовать бесплатно",
        "👤 Моя подписка",
        "📖 Инструкция",
        "🤝 Реферальная программа",
        "🆘 Поддержка",
        "ℹ️ О проекте",
        "🌐 Language / Язык",
    ]
    customer = await get_customer(shop.ctx.sessions, 101)
    assert customer is not None and (customer.language, customer.username) == ("ru", "anna")


async def test_start_in_english_for_english_telegram_and_admin_button(shop: Shop) -> None:
    boss = shop.person(ADMIN_ID, "Boss", "en-GB")
    await boss.says("/start")
    assert boss.messages[0].text == "👋 Welcome to vpnshop, Boss!"
    assert boss.messages[0].keyboard_texts == ["🏠 Main menu"]
    assert boss.last.button_texts[-1] == "🛠 Admin" and "💳 Buy a subscription" in boss.last.button_texts


async def test_repeat_start_refreshes_the_name_and_keeps_the_first_referrer(shop: Shop) -> None:
    referrer, other = shop.person(1, "Ref"), shop.person(2, "Other")
    await referrer.says("/start")
    await other.says("/start")
    bob = shop.person(3, "Bob", username="bob")
    await bob.says("/start ref_1")
    shop.tg.add_user(3, "Robert", username="robert", language_code="ru")
    await bob.says("/start ref_2")
    assert bob.messages[2].text == "👋 Снова здравствуйте, Robert!"
    assert await referrer_of(shop.ctx.sessions, 3) == 1
    customer = await get_customer(shop.ctx.sessions, 3)
    assert customer is not None and (customer.username, customer.full_name) == ("robert", "Robert")


@pytest.mark.parametrize("argument", ["ref_4", "ref_77777", "ref_abc", "garbage"])
async def test_self_unknown_or_malformed_referrals_are_ignored(shop: Shop, argument: str) -> None:
    carl = shop.person(4, "Carl")
    await carl.says(f"/start {argument}")
    assert carl.messages[0].text == "👋 Добро пожаловать в vpnshop, Carl!"
    assert await referrer_of(shop.ctx.sessions, 4) is None


async def test_names_are_escaped_in_html(shop: Shop) -> None:
    eve = shop.person(5, "<b>Eve</b> & co")
    await eve.says("/start")
    assert eve.messages[0].text == "👋 Добро пожаловать в vpnshop, <b>Eve</b> & co!"


async def test_terms_gate_with_only_a_terms_link(shop_with: OpenShop) -> None:
    async with shop_with(terms_url="https://example.com/terms") as shop:
        dan = shop.person(6, "Dan", "en")
        await dan.says("/start")
        assert dan.last.text == "👋 Welcome to vpnshop!\n📄 Read the terms of service and the privacy policy."
        assert dan.last.button_texts == ["📄 Terms", "✅ I accept the terms"]
        assert dan.last.button("Terms")["url"] == "https://example.com/terms"
        await dan.says("hello?")
        assert dan.last.text == "Please press the button under the welcome message above first 👆"
        welcome = dan.with_button("I accept")
        await dan.taps("I accept")
        assert welcome.message_id not in [message.message_id for message in dan.messages]
        assert dan.texts[-2:] == ["Enjoy! 🎉", dan.last.text]
        assert "Main menu" in (dan.last.text or "")
        customer = await get_customer(shop.ctx.sessions, 6)
        assert customer is not None and customer.terms_accepted
        await dan.says("/start")
        assert dan.texts[-2] == "👋 Welcome back, Dan!"


async def test_forced_channel_subscription(shop_with: OpenShop) -> None:
    async with shop_with(channel_url="https://t.me/vpnnews", force_channel_subscription=True) as shop:
        shop.tg.add_channel("vpnnews")
        eva = shop.person(7, "Ева")
        await eva.says("/start")
        assert eva.last.text == "👋 Добро пожаловать в vpnshop!\n📢 Подпишитесь на наш канал."
        assert eva.last.button_texts == ["📢 Наш канал", "✅ Я подписался"]
        answer = await eva.taps("Я подписался")
        assert answer is not None and answer.show_alert and "ещё не подписались" in (answer.text or "")
        shop.tg.set_membership("vpnnews", 7, "member")
        shop.tg.set_bot_admin("vpnnews", False)
        answer = await eva.taps("Я подписался")
        assert answer is not None and "администратором канала" in (answer.text or "")
        customer = await get_customer(shop.ctx.sessions, 7)
        assert customer is not None and not customer.terms_accepted
        shop.tg.set_bot_admin("vpnnews", True)
        await eva.taps("Я подписался")
        assert eva.texts[-2] == "Приятного использования! 🎉"


async def test_language_switch_changes_menu_and_persistent_button(shop: Shop) -> None:
    fox = shop.person(8, "Fox")
    await fox.says("/start")
    await fox.taps("Language")
    assert fox.last.button_texts == ["🇷🇺 Русский", "🇬🇧 English", "← Назад"]
    await fox.taps("English")
    assert fox.last.text == "✅ Language: English" and fox.last.keyboard_texts == ["🏠 Main menu"]
    assert "Main menu" in (fox.messages[-2].text or "")
    await fox.says("🏠 Main menu")
    assert "💳 Buy a subscription" in fox.last.button_texts
    customer = await get_customer(shop.ctx.sessions, 8)
    assert customer is not None and customer.language == "en"


async def test_commands_are_published_in_both_languages(shop: Shop) -> None:
    await publish_commands(shop.bot)
    assert [c["command"] for c in shop.tg.commands()] == [
        "start",
        "menu",
        "subscription",
        "buy",
        "balance",
        "promo",
        "gift",
        "help",
        "support",
    ]
    assert shop.tg.commands()[1]["description"] == "Главное меню"
    assert shop.tg.commands(language="en")[1]["description"] == "Main menu"
