"""The Telegram proxy in the bot, in both languages, through the real Dispatcher, checkout, payment
workflow and sandboxes (Telegram, YooKassa, MTG panel): the menu offers it only while an MTG host is
enabled; the card has Connect and Copy; bad input (no MTG host, a withdrawn plan) gets a clear
answer and changes nothing."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select, update

from bot.callbacks import Nav, Screen
from sandbox.mtg import SandboxMtg
from shop.crypto import Sealer
from shop.models import Grant, Payment, Plan
from shop.proxy.access import proxy_access
from shop.proxy.hosts import MtgHostService
from tests.bot.conftest import OpenShop
from tests.bot.kit import Person, Shop
from tests.factories import plan
from tests.proxy_fixtures import add_mtg_host, proxy_plan


async def _payments(shop: Shop) -> int:
    async with shop.ctx.sessions() as session:
        return await session.scalar(select(func.count()).select_from(Payment)) or 0


def _proxy_cards(person: Person, heading: str) -> list[str]:
    return [m.text or "" for m in person.messages if (m.text or "").startswith(heading)]


async def test_buying_the_proxy_in_russian(shop_with: OpenShop) -> None:
    async with shop_with(providers=True) as shop, SandboxMtg() as mtg:
        await plan(shop.ctx.sessions, "Месяц", 30, "199")
        await proxy_plan(shop.ctx, 30, "99")
        vera = await shop.started(31, "Вера")
        await vera.says("/menu")
        assert "📡 Telegram Proxy" not in vera.last.button_texts  # no MTG host yet
        await vera.says("/proxy")
        assert vera.last.text == "📡 Telegram Proxy сейчас не продаётся. Оплата не списана; загляните позже."

        await add_mtg_host(shop.ctx, mtg)
        await vera.says("/menu")
        await vera.taps("📡 Telegram Proxy")
        assert (vera.last.text or "").startswith("📡 Telegram Proxy\n\nЛичный MTProto-прокси")
        # Proxy plans only, and the proxy's own trial (the shop's trial terms: 3 days).
        assert vera.last.button_texts == [
            "🎁 Попробовать бесплатно 3 дн.",
            "Прокси · 30 дн. — 99 ₽",
            "← Назад",
        ]
        await vera.says("/buy")
        assert vera.last.button_texts == ["Месяц · 30 дн. — 199 ₽", "← Назад"]  # VPN plans only

        await vera.says("/proxy")
        await vera.taps("Прокси")
        await vera.taps("Банковская карта")
        order = vera.last
        await vera.taps("Оплатить", on=order)
        async with httpx.AsyncClient() as browser:
            assert (await browser.get(order.button("Перейти к оплате")["url"])).json()[
                "status"
            ] == "succeeded"
        await shop.tg.wait_for(lambda: _proxy_cards(vera, "🎉 Ваш Telegram Proxy готов!"), 30)
        card = [m for m in vera.messages if (m.text or "").startswith("🎉 Ваш Telegram Proxy готов!")][-1]
        proxy = await proxy_access(shop.ctx.sessions, 31)
        assert proxy.active and proxy.link in (card.text or "")
        assert card.button_texts == ["🔌 Подключить", "📋 Скопировать ссылку", "🏠 Главное меню"]
        assert card.button("Подключить")["url"] == f"{shop.ctx.settings.base_url}/proxy/{proxy.token}"
        assert card.button("Скопировать ссылку")["copy_text"] == {"text": proxy.link}

        await vera.says("/proxy")  # the screen now shows the proxy and offers to extend it
        assert "✅ Прокси активен до" in (vera.last.text or "")
        assert vera.last.button_texts == [
            "🔌 Подключить",
            "📋 Скопировать ссылку",
            "Прокси · 30 дн. — 99 ₽",
            "← Назад",
        ]


async def test_bad_input_in_english_gets_a_clear_answer_and_changes_nothing(shop_with: OpenShop) -> None:
    async with shop_with(providers=True) as shop, SandboxMtg() as mtg:
        await add_mtg_host(shop.ctx, mtg)
        offer = await proxy_plan(shop.ctx, 30, "99")
        nick = await shop.started(32, "Nick", "en")
        await nick.says("/menu")
        await nick.taps("📡 Telegram proxy")
        screen = nick.last
        assert screen.button_texts == ["🎁 Try it free for 3 days", "Proxy · 30 days — 99 ₽", "← Back"]

        # The operator disables the only MTG host while the screen is open.
        await MtgHostService(shop.ctx.sessions, Sealer.from_settings(shop.ctx.settings)).set_enabled(
            "mtg", False
        )
        answer = await nick.taps("Proxy", on=screen)
        assert answer is not None and answer.show_alert
        assert (
            answer.text
            == "📡 The Telegram proxy is not on sale right now. Nothing was charged; please check back later."
        )
        await nick.says("/menu")
        assert "📡 Telegram proxy" not in nick.last.button_texts
        assert await _payments(shop) == 0

        # Enabled again, then the plan is withdrawn while its button is on screen.
        await MtgHostService(shop.ctx.sessions, Sealer.from_settings(shop.ctx.settings)).set_enabled(
            "mtg", True
        )
        await nick.says("/proxy")
        screen = nick.last
        async with shop.ctx.sessions() as session, session.begin():
            await session.execute(update(Plan).where(Plan.id == offer.id).values(active=False))
        answer = await nick.taps("Proxy", on=screen)
        assert answer is not None and answer.text == "This button is out of date. Open the menu again: /menu"
        await nick.says("/proxy")
        assert (nick.last.text or "").endswith(
            "No proxy plans are on sale right now. Please check back later."
        )
        assert await _payments(shop) == 0 and not mtg.state.users


async def test_the_proxy_trial_once(shop_with: OpenShop) -> None:
    async with shop_with() as shop, SandboxMtg() as mtg:
        await add_mtg_host(shop.ctx, mtg)
        await proxy_plan(shop.ctx, 30, "99")
        tina = await shop.started(33, "Tina", "en")
        await tina.says("/proxy")
        screen = tina.last
        await tina.taps("Try it free", on=screen)
        card = tina.last
        assert (card.text or "").startswith("🎁 Your Telegram proxy trial is on!")
        proxy = await proxy_access(shop.ctx.sessions, 33)
        assert proxy.active and proxy.link in (card.text or "") and proxy.days_left == 3
        assert card.button_texts == ["🔌 Connect", "📋 Copy link", "🏠 Main menu"]
        # The screen became the card; the trial button's data again (a double tap, an old copy):
        answer = await tina.sends_callback(Nav(to=Screen.PROXY_TRIAL).pack(), on=card)
        assert answer is not None and answer.show_alert
        assert answer.text == "You have already had the Telegram proxy, so the free trial is not available."
        assert len(mtg.state.users) == 1
        async with shop.ctx.sessions() as session:
            grants = list(await session.scalars(select(Grant.source_key)))
        assert grants == ["proxy-trial:33"]
        await tina.says("/proxy")
        assert "🎁 Try it free for 3 days" not in tina.last.button_texts
        assert (await proxy_access(shop.ctx.sessions, 33)).expires_at is not None
        await tina.says("/menu")
        assert "🎁 Try for free" in tina.last.button_texts  # the VPN's trial is its own, still on offer
