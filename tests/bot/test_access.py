"""Trial, My subscription (link, copy, QR, new link), instructions, About and Support."""

from __future__ import annotations

import io
from datetime import timedelta

from PIL import Image

from shop.access.ledger import grant, history
from shop.access.trial import trial_source_key
from shop.customers.accounts import ensure_subscription
from shop.customers.users import access_of
from shop.models import GrantKind, utcnow
from tests.bot.conftest import ADMIN_ID, OpenShop
from tests.bot.kit import Shop
from tests.panel_fixtures import StartPanel, add_sandbox_host


async def test_trial_once_on_every_host_and_the_operator_is_told(shop: Shop, start_panel: StartPanel) -> None:
    panels = [await start_panel(version="v2"), await start_panel(version="v3.1")]
    for name, panel in zip(("Frankfurt", "Helsinki"), panels, strict=True):
        await add_sandbox_host(shop.ctx, panel, name=name)
    boss = await shop.started(ADMIN_ID, "Boss", "en")
    gina = await shop.started(11, "Gina")
    menu = shop.tg.world.find_message(11, gina.last.message_id, "menu")
    menu_buttons = list(menu.buttons)
    await gina.taps("Попробовать бесплатно")
    access = await access_of(shop.ctx.sessions, 11)
    assert access.state.value == "trial" and access.days_left == 3 and access.token
    link = f"{shop.ctx.settings.base_url}/sub/{access.token}"
    card = gina.messages[-1]  # one message: the QR code with the card as its caption
    assert card.caption is not None and card.caption.startswith("🎁 Пробный период активирован!")
    assert "Серверов: 2" in card.caption and link in card.caption
    assert card.button("Скопировать")["copy_text"] == {"text": link}
    assert card.button_texts == [
        "📋 Скопировать ссылку",
        "📱 QR-код",
        "📖 Как подключиться",
        "🏠 Главное меню",
    ]
    assert card.photo is not None and Image.open(io.BytesIO(card.photo)).format == "PNG"
    assert boss.last.text == "🎁 Trial taken: Gina (11), 3 days."
    grants = await history(shop.ctx.sessions, (await shop_subscription_id(shop, 11)))
    assert [(g.source_key, g.kind.value) for g in grants] == [(trial_source_key(11), "trial")]
    # The menu no longer offers it; the old button (a double tap) is refused and nothing changes.
    await gina.says("/menu")
    assert "🎁 Попробовать бесплатно" not in gina.last.button_texts
    trial_data = next(b["callback_data"] for b in menu_buttons if "Попробовать" in b["text"])
    answer = await gina.sends_callback(trial_data, on=menu)
    assert answer is not None and answer.text == "Вы уже использовали пробный период." and answer.show_alert
    assert len(await history(shop.ctx.sessions, await shop_subscription_id(shop, 11))) == 1
    # The trial runs through the same provisioning: one enabled client on each panel.
    assert [[c["enable"] for c in panel.clients()] for panel in panels] == [[True], [True]]


async def shop_subscription_id(shop: Shop, user_id: int) -> int:
    return (await ensure_subscription(shop.ctx.sessions, user_id)).id


async def test_trial_is_refused_after_a_purchase_and_when_disabled(shop_with: OpenShop) -> None:
    async with shop_with(trial_days=0) as shop:
        hugo = await shop.started(12, "Hugo", "en")
        assert "🎁 Try for free" not in hugo.last.button_texts
        answer = await hugo.sends_callback("nav:trial")
        assert answer is not None and answer.text == "The free trial is not available right now."
    async with shop_with() as shop:
        ivan = await shop.started(13, "Ivan")
        await grant(shop.ctx.sessions, await shop_subscription_id(shop, 13), "pay:1", timedelta(days=30),
                    GrantKind.PURCHASE, "test")  # fmt: skip
        answer = await ivan.taps("Попробовать бесплатно")
        assert answer is not None and answer.text == "Пробный период доступен только до первой покупки."


async def test_my_subscription_link_qr_and_new_link(shop: Shop) -> None:
    jane = await shop.started(14, "Jane", "en")
    await jane.taps("My subscription")
    assert jane.last.text == "You don't have a subscription yet."
    assert jane.last.button_texts == ["💳 Buy a subscription", "← Back"]
    await jane.taps("Back")
    await jane.taps("Try for free")
    await jane.says("/subscription")
    old = (await access_of(shop.ctx.sessions, 14)).token
    screen = jane.last
    assert screen.text is not None and "Status: 🎁 Trial" in screen.text and "Days left: 3" in screen.text
    assert f"/sub/{old}" in screen.text
    assert screen.button_texts == [
        "📋 Copy link", "📱 QR code", "➕ Extend subscription", "🔄 New link", "📖 How to connect", "← Back",
    ]  # fmt: skip
    photos = len([m for m in jane.messages if m.photo])
    await jane.taps("QR code", on=screen)
    assert len([m for m in jane.messages if m.photo]) == photos + 1
    await jane.taps("New link", on=screen)  # the screen is edited in place from here on
    assert screen.text is not None and screen.text.startswith("🔄 Create a new link?")
    await jane.taps("Cancel", on=screen)
    assert screen.text.startswith("👤 My subscription")
    assert (await access_of(shop.ctx.sessions, 14)).token == old
    await jane.taps("New link", on=screen)
    await jane.taps("Yes, new link", on=screen)
    new = (await access_of(shop.ctx.sessions, 14)).token
    assert new != old and f"/sub/{new}" in screen.text and f"/sub/{old}" not in screen.text
    assert screen.text.startswith("✅ New link created.")


async def test_expired_subscription_offers_to_extend(shop: Shop) -> None:
    kate = await shop.started(15, "Kate")
    await grant(shop.ctx.sessions, await shop_subscription_id(shop, 15), "pay:old", timedelta(days=30),
                GrantKind.PURCHASE, "test", now=utcnow() - timedelta(days=40))  # fmt: skip
    await kate.taps("Моя подписка")
    assert kate.last.text is not None and kate.last.text.startswith("❌ Ваша подписка истекла")
    assert kate.last.button_texts == ["➕ Продлить подписку", "← Назад"]
    answer = await kate.sends_callback("link:qr")
    assert answer is not None and answer.text == "У вас нет активной подписки."


async def test_instructions_with_store_links_and_one_tap_import(shop: Shop) -> None:
    leo = await shop.started(16, "Leo", "en")
    await leo.taps("How to connect")
    assert leo.last.button_texts == ["🤖 Android", "🍏 iOS", "🪟 Windows", "🍎 macOS", "🐧 Linux", "← Back"]
    await leo.taps("Android")
    assert leo.last.text is not None and leo.last.text.startswith("🤖 Android")
    assert leo.last.button_texts == [
        "⬇️ Happ",
        "⬇️ v2rayNG",
        "⬇️ v2RayTun",
        "← Back",
    ]  # no link yet: nothing to import
    await leo.taps("Back")
    await leo.taps("Back")
    await leo.taps("Try for free")
    await leo.taps("How to connect")
    await leo.taps("iOS")
    token = (await access_of(shop.ctx.sessions, 16)).token
    ios = leo.with_button("Import into Happ")
    assert ios.button("Import into Happ")["url"] == f"{shop.ctx.settings.base_url}/import/{token}/happ"
    assert ios.button("⬇️ Happ")["url"].startswith("https://apps.apple.com/")


async def test_about_and_support(shop_with: OpenShop) -> None:
    async with shop_with(support_url="https://t.me/help_desk", channel_url="@vpnnews") as shop:
        mia = await shop.started(17, "Mia")
        await mia.taps("Поддержка")
        assert mia.last.text is not None and mia.last.text.startswith("🆘 Поддержка")
        assert mia.last.button("Написать")["url"] == "https://t.me/help_desk"
        await mia.taps("Назад")
        await mia.taps("О проекте")
        assert mia.last.button("Наш канал")["url"] == "https://t.me/vpnnews"
    async with shop_with() as shop:
        ned = await shop.started(18, "Ned", "en")
        await ned.says("/support")
        assert ned.last.text == "No support contact has been set yet." and ned.last.button_texts == ["← Back"]
