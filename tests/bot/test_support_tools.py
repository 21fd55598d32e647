"""Operator tools inside a topic (/grant, /ban, /link, saved answers), the shop bot as the desk
("Write to support", ten first messages at once), and the group upgraded to a supergroup."""

from __future__ import annotations

import asyncio

from aiogram.types import Update

from shop.access.ledger import history
from shop.customers.accounts import ensure_subscription
from shop.customers.users import get_customer
from shop.models import GrantKind, SupportDelivery
from shop.support.tickets import current_chat, ticket_of
from tests.bot.conftest import OpenDesk, OpenShop
from tests.bot.desk_kit import OPERATOR, SupportDesk


async def test_grant_ban_and_link_act_on_the_topics_customer(desk: SupportDesk) -> None:
    ann = desk.customer(1, "Ann")
    await ann.says("Please extend me")
    topic = desk.topic_of("Ann")
    subscription = await ensure_subscription(desk.ctx.sessions, 1)

    await desk.operator_says(topic, "/link")
    assert desk.topic_texts(topic)[-1] == "The customer has no active access: no card was sent."
    for bad in ("/grant", "/grant seven", "/grant 0d", "/grant 99999d", "/grant -3d"):
        await desk.operator_says(topic, bad)
        assert desk.topic_texts(topic)[-1] == "Usage: /grant 7d — from 1 to 3650 days. Nothing was changed."
    assert await history(desk.ctx.sessions, subscription.id) == []

    await desk.operator_says(topic, "/grant 7d")
    assert desk.topic_texts(topic)[-1].startswith("✅ +7 d: access until ")
    [grant] = await history(desk.ctx.sessions, subscription.id)
    assert grant.kind is GrantKind.ADJUSTMENT and grant.actor == f"admin:{OPERATOR}"
    assert ann.texts[-1].startswith("🎁 You got 7 extra days.")

    await desk.operator_says(topic, "/link")
    assert desk.topic_texts(topic)[-1] == "🔗 Access card sent to the customer."
    card = ann.received[-1]  # one message: the QR code with the card as its caption
    assert "/sub/" in (card.caption or "") and card.media_kind == "photo"

    await desk.operator_says(topic, "/ban")
    assert desk.topic_texts(topic)[-1] == "⛔ Customer banned; their VPN access is being disabled."
    customer = await get_customer(desk.ctx.sessions, 1)
    assert customer is not None and customer.banned
    await desk.operator_says(topic, "/ban")
    assert desk.topic_texts(topic)[-1] == "Nothing changed: the customer already is so."
    await desk.operator_says(topic, "/unban")
    customer = await get_customer(desk.ctx.sessions, 1)
    assert customer is not None and not customer.banned
    await desk.operator_says(topic, "/whatever")
    assert desk.topic_texts(topic)[-1].startswith("Commands in a topic:")
    assert [e.kind for e in await desk.journal_of(1)] == ["text"]  # commands are no messages to her


async def test_saved_answers(desk: SupportDesk) -> None:
    ann = desk.customer(1, "Ann")
    await ann.says("How do I connect?")
    topic = desk.topic_of("Ann")
    await desk.operator_says(topic, "/quick")
    assert desk.topic_texts(topic)[-1] == "No saved answers yet. Add one: /quick add <name> <text>"
    for bad in ("/quick add", "/quick add Bad!Name text", "/quick add howto", "/quick rename a b"):
        await desk.operator_says(topic, bad)
        assert desk.topic_texts(topic)[-1].startswith("Usage: /quick add <name> <text>")
    await desk.operator_says(topic, "/quick add howto Open the app, tap <Import> and connect.")
    assert desk.topic_texts(topic)[-1] == "💾 Saved answer “howto”."
    await desk.operator_says(topic, "/quick")
    assert desk.topic_texts(topic)[-1] == "Saved answers: howto\nSend one with /q <name>."
    await desk.operator_says(topic, "/q nope")
    assert desk.topic_texts(topic)[-1] == "No saved answer “nope”. /quick lists them."
    await desk.operator_says(topic, "/q howto")
    assert ann.texts[-1] == "Open the app, tap <Import> and connect."
    entries = await desk.journal_of(1)
    assert [(e.kind, e.status) for e in entries][-1] == ("text", SupportDelivery.DELIVERED)
    await desk.operator_says(topic, "/quick del howto")
    assert desk.topic_texts(topic)[-1] == "🗑 Deleted answer “howto”."


async def test_the_upgraded_group_is_followed(desk_with: OpenDesk) -> None:
    async with desk_with(basic_group=True) as desk:
        basic = desk.chat_id
        desk.group = await desk.tg.upgrade_group(basic, OPERATOR)
        await desk.tg.settle()
        assert await current_chat(desk.ctx.sessions, basic) == desk.group.id
        await desk.customer(1, "Ann").says("Hello")
        assert desk.topic_texts(desk.topic_of("Ann"))[-1] == "Hello"


async def test_a_missed_upgrade_is_followed_on_the_migration_error(desk_with: OpenDesk) -> None:
    async with desk_with(basic_group=True) as desk:
        basic = desk.chat_id
        await desk.stop()
        desk.group = await desk.tg.upgrade_group(basic, OPERATOR)
        await desk.tg.world.confirm(desk.tg.world.updates[-1]["update_id"])  # never seen by the desk
        await desk.start()
        await desk.customer(1, "Ann").says("Hello")
        assert desk.topic_texts(desk.topic_of("Ann"))[-1] == "Hello"
        assert await current_chat(desk.ctx.sessions, basic) == desk.group.id


async def test_the_shop_bot_as_the_desk_and_ten_first_messages_at_once(shop_with: OpenShop) -> None:
    chat_id = -1003000000001
    async with shop_with(support_chat_id=chat_id, support_language="en") as shop:
        group = shop.tg.add_group("Desk", chat_id=chat_id)
        shop.tg.add_user(OPERATOR, "Olga")
        shop.tg.set_group_member(chat_id, OPERATOR, "administrator")
        ann = await shop.started(1, "Ann", "en", username="ann")
        await ann.says("free text before asking for support")
        assert ann.last.text == "I don't understand this message 🤔 Please use the menu buttons."
        await ann.says("/support")
        await ann.taps("Write to support")
        assert ann.last.text is not None and ann.last.text.startswith("✍️ Write your question here")

        # Ten messages reach the Dispatcher at the same moment (polling hands them over as tasks).
        world = shop.tg.world
        sent = [world.add_message(1, False, text=f"message {n}") for n in range(10)]
        updates = [
            Update.model_validate({"update_id": 10_000 + n, "message": world.message_json(message)})
            for n, message in enumerate(sent)
        ]
        await asyncio.gather(*(shop.dispatcher.feed_update(shop.bot, update) for update in updates))
        [topic] = shop.tg.topics(chat_id)
        assert topic.name == "Ann @ann (1)"
        copies = [m.text or "" for m in shop.tg.in_topic(chat_id, topic.thread_id) if m.from_bot][2:]
        assert sorted(copies) == sorted(f"message {n}" for n in range(10))  # each once
        ticket = await ticket_of(shop.ctx.sessions, 1)
        assert ticket is not None and ticket.thread_id == topic.thread_id

        await shop.tg.post(chat_id, OPERATOR, "Hi Ann", thread_id=topic.thread_id)
        await shop.tg.settle()
        await shop.tg.wait_for(lambda: ann.last.text == "Hi Ann")
        await shop.tg.close_topic(group.id, topic.thread_id, OPERATOR)
        await shop.tg.settle()
        assert ann.last.text == "✅ Your support request is closed. Write again any time and it opens again."
        await ann.says("free text after the ticket closed")
        assert ann.last.text == "I don't understand this message 🤔 Please use the menu buttons."
