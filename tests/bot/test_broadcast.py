"""Operator broadcast through the real bot and BroadcastWorkflow: composing with bad input in both
languages, one broadcast however many taps on Send, banned and blocked customers left out, a
customer who blocks the bot meanwhile recorded, and flood waits that cost nobody a copy."""

from __future__ import annotations

from sqlalchemy import select

from bot.ui import qr_png
from sandbox.telegram.records import SentMessage
from shop.customers.accounts import register_user
from shop.customers.admin import set_banned
from shop.customers.users import mark_bot_blocked
from shop.models import BroadcastDelivery, DeliveryStatus, User, utcnow
from shop.operators import audit
from tests.bot.conftest import ADMIN_ID, OpenShop
from tests.bot.kit import Person, Shop

REPORT_RU = (
    "📣 Рассылка завершена\n\nОтправлено: {sent}\nНе доставлено: {failed}\n"
    "Заблокировали бота: {blocked}\nПропущено (бан): {skipped}"
)


async def customers(shop: Shop, ids: range, language: str = "ru") -> None:
    """Customers who once started the bot (registered directly: faster than /start each)."""
    for user_id in ids:
        shop.tg.add_user(user_id, f"User{user_id}", language_code=language)
        await register_user(shop.ctx.sessions, user_id, None, f"User{user_id}", language=language)


def copies(shop: Shop, user_id: int) -> list[SentMessage]:
    """The broadcast copies a customer got (the bot never writes to them otherwise here)."""
    return [m for m in shop.tg.messages(user_id) if m.media_kind or (m.text or "").startswith("📢")]


async def report(shop: Shop, boss: Person) -> str:
    found = await shop.tg.wait_for(
        lambda: [m for m in boss.texts if "Рассылка завершена" in m or "finished" in m], 60
    )
    return str(found[-1])


async def test_photo_with_a_button_bad_input_double_tap_banned_and_blocked_left_out(shop: Shop) -> None:
    boss = await shop.started(ADMIN_ID, "Босс")
    await customers(shop, range(101, 106))
    await set_banned(shop.ctx.sessions, 104, True)
    await mark_bot_blocked(shop.ctx.sessions, 105, utcnow())
    await boss.says("/admin")
    assert "📣 Рассылка" in boss.last.button_texts
    await boss.taps("Рассылка")
    assert boss.last.text is not None and boss.last.text.startswith("📣 Рассылка\n\nПришлите сообщение")
    await boss.says("/menu")  # a command is not a message to broadcast
    await boss.says("/help")
    photo = qr_png("sale")
    await boss.sends("photo", photo, caption="📢 Скидка 20% до пятницы")
    assert boss.last.text is not None and boss.last.text.startswith("Добавить кнопку-ссылку?")
    assert boss.last.button_texts == ["Без кнопки", "✖️ Отмена"]

    await boss.says("просто текст")  # free text where a button is expected
    assert boss.last.text is not None and boss.last.text.startswith("Не понял кнопку.")
    await boss.says("Магазин | http://shop.example")  # not https
    assert boss.last.text is not None and boss.last.text.startswith("Ссылка должна начинаться с https://")
    await boss.says("Магазин | https://")
    assert boss.last.text is not None and boss.last.text.startswith("Ссылка должна начинаться с https://")
    await boss.says(f"{'x' * 65} | https://shop.example")
    assert boss.last.text is not None and boss.last.text.startswith("Текст кнопки длиннее 64 символов")
    await boss.sends("document", b"%PDF", caption="not a button")
    assert boss.last.text is not None and boss.last.text.startswith("Не понял кнопку.")

    await boss.says("Магазин | https://shop.example/sale?from=bot")
    preview, question = boss.messages[-2:]
    assert preview.photo == photo and preview.caption == "📢 Скидка 20% до пятницы"
    assert preview.buttons == [{"text": "Магазин", "url": "https://shop.example/sale?from=bot"}]
    assert question.text == "👆 Так сообщение увидят пользователи. Получателей сейчас: 4. Отправить?"
    assert question.button_texts == ["✅ Отправить", "✖️ Отмена"]
    await boss.says("да")  # text where a button is expected
    assert boss.last.text == "Нажмите «Отправить» или «Отмена» под предпросмотром (или /cancel)."
    send = question.button("Отправить")["callback_data"]
    assert all(copies(shop, user) == [] for user in range(101, 106)), "nothing goes out before Send"

    await boss.taps("Отправить", on=question)
    assert question.text == "📣 Рассылка запущена. Отчёт придёт сюда, когда она закончится."
    again = await boss.sends_callback(send, on=question)  # a double tap
    assert again is not None and again.text == "Эта рассылка уже запущена."
    [logged] = (await audit.entries(shop.ctx.sessions))[0]
    assert (logged.action, logged.actor_id, logged.channel) == ("broadcast.start", ADMIN_ID, "bot")
    assert await report(shop, boss) == REPORT_RU.format(sent=4, failed=0, blocked=1, skipped=1)
    for user in (101, 102, 103):
        [copy] = copies(shop, user)
        assert copy.photo == photo and copy.caption == "📢 Скидка 20% до пятницы"
        assert copy.buttons == [{"text": "Магазин", "url": "https://shop.example/sale?from=bot"}]
    assert copies(shop, 104) == [] and copies(shop, 105) == []
    assert len([m for m in boss.messages if m.photo == photo]) == 2  # the preview and the operator's own copy
    await boss.taps("Ход рассылки", on=question)
    assert question.text == (
        "📣 Рассылка завершена\n\nОтправлено: 4 из 4\nНе доставлено: 0\nЗаблокировали бота: 1\n"
        "Пропущено (бан): 1"
    )
    assert question.button_texts == []


async def test_text_without_button_cancel_at_every_step_and_foreign_or_tampered_buttons(shop: Shop) -> None:
    boss = await shop.started(ADMIN_ID, "Boss", "en")
    mallory = await shop.started(66, "Mallory", "en")
    await boss.says("/admin")
    await boss.taps("Broadcast")
    assert boss.last.button_texts == ["✖️ Cancel"]
    await boss.taps("Cancel")
    assert boss.last.text == "Broadcast cancelled."
    await boss.says("hello")  # no longer composing: free text is just free text
    assert boss.last.text is not None and boss.last.text.startswith("I don't understand")

    await boss.says("/admin")
    await boss.taps("Broadcast")
    await boss.says("/cancel")
    assert boss.last.text == "Broadcast cancelled."

    await boss.says("/admin")
    await boss.taps("Broadcast")
    await boss.says("📢 <b>News</b>: new servers in Helsinki")
    await boss.says("Shop | https://localhost/shop")
    assert boss.last.text == (
        "The link must start with https:// and point to a website, like https://example.com. "
        "Send the button again."
    )
    await boss.says("Shop https://shop.example")
    assert boss.last.text == (
        "I could not read the button. Send it like this: Button text | https://example.com, "
        "or tap “No button”."
    )
    await boss.taps("No button")
    preview, question = boss.messages[-2:]
    assert preview.text == "📢 <b>News</b>: new servers in Helsinki" and preview.buttons == []
    assert question.text == "👆 This is what users will see. Recipients right now: 2. Send it?"
    send = question.button("Send")["callback_data"]
    broadcast_id = send.rsplit(":", 1)[1]

    # Not an operator: the admin router's filter turns every broadcast button away.
    for data in ("bc:new:", send, f"bc:cancel:{broadcast_id}", f"bc:progress:{broadcast_id}"):
        forged = await mallory.sends_callback(data)
        assert forged is not None and forged.text == "This button is out of date. Open the menu again: /menu"
    await mallory.says("/cancel")
    assert mallory.last.text == "There is no such command. Open the menu: /menu"
    # Tampered data from the operator: no handler matches.
    for data in ("bc:send:zzzz", "bc:send:", "bc:launch:" + broadcast_id, f"bc:send:{'0' * 16}"):
        answer = await boss.sends_callback(data, on=question)
        assert answer is not None and answer.text == "This button is out of date. Open the menu again: /menu"

    await boss.says("/cancel")  # at the preview: the draft is cancelled with it
    assert boss.last.text == "Broadcast cancelled."
    late = await boss.sends_callback(send, on=question)
    assert late is not None and late.text == "This broadcast was cancelled."
    assert copies(shop, 66) == [] and len([m for m in boss.texts if "new servers" in m]) == 1
    async with shop.ctx.sessions() as session:
        assert list(await session.scalars(select(BroadcastDelivery))) == []


async def test_flood_waits_and_a_customer_blocking_the_bot_midway(shop_with: OpenShop) -> None:
    async with shop_with(telegram_messages_per_second=30) as shop:
        boss = await shop.started(ADMIN_ID, "Boss", "en")
        recipients = range(1000, 1060)
        await customers(shop, recipients, "en")
        shop.tg.set_rate_limit(10)  # Telegram's limit is lower than we pace: 429s with retry_after
        await boss.says("/admin")
        await boss.taps("Broadcast")
        await boss.sends("video", b"\x00\x00\x00\x18ftypmp42", caption="📢 How to connect, in 30 s")
        await boss.says("Help | https://help.example")
        question = boss.last
        shop.tg.flood_wait(after=5, seconds=2)  # after five copies, two seconds of 429s
        await boss.taps("Send", on=question)
        await shop.tg.wait_for(lambda: sum(len(copies(shop, user)) for user in recipients) >= 5)
        shop.tg.block(1059)  # the last one blocks the bot before their copy
        await shop.tg.wait_for(lambda: any("Broadcast finished" in text for text in boss.texts), 60)
        assert boss.last.text == (
            "📣 Broadcast finished\n\nSent: 60\nNot delivered: 0\nBlocked the bot: 1\nSkipped (banned): 0"
        )
        assert [len(copies(shop, user)) for user in recipients] == [1] * 59 + [0]
        assert {copies(shop, user)[0].media_kind for user in recipients[:-1]} == {"video"}
        rejected = [p for p in shop.tg.calls("copyMessage")]
        assert len(rejected) > 61, "Telegram answered 429 to some copies, which were sent again"
        async with shop.ctx.sessions() as session:
            blocked_at = await session.scalar(select(User.bot_blocked_at).where(User.id == 1059))
            rows = dict(
                (await session.execute(select(BroadcastDelivery.user_id, BroadcastDelivery.status))).all()
            )
        assert blocked_at is not None
        assert rows[1059] is DeliveryStatus.BLOCKED and list(rows.values()).count(DeliveryStatus.SENT) == 60
