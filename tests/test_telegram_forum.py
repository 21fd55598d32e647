"""The Telegram sandbox's groups and forum topics, driven by aiogram over HTTP as the Bot API answers."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError, TelegramMigrateToChat
from aiogram.types import Message

from sandbox.telegram import TelegramSandbox
from tests.test_telegram_sandbox import bot_for, png

OPERATOR, MEMBER, CUSTOMER = 10, 11, 1


@pytest.fixture
async def bot(tg: TelegramSandbox) -> AsyncIterator[Bot]:
    async with bot_for(tg) as opened:  # the session closes on the way out
        yield opened


@pytest.fixture
async def tg() -> AsyncIterator[TelegramSandbox]:
    async with TelegramSandbox() as sandbox:
        sandbox.add_user(CUSTOMER, "Ann", username="ann", language_code="en")
        sandbox.add_user(OPERATOR, "Olga")
        sandbox.add_user(MEMBER, "Max")
        yield sandbox


async def test_topics_are_created_closed_reopened_edited_and_deleted(tg: TelegramSandbox, bot: Bot) -> None:
    group = tg.add_group("Desk")
    topic = await bot.create_forum_topic(group.id, "Ann @ann (1)")
    assert topic.name == "Ann @ann (1)" and topic.icon_color == 7322096
    sent = await bot.send_message(group.id, "hello", message_thread_id=topic.message_thread_id)
    assert sent.message_thread_id == topic.message_thread_id and sent.is_topic_message
    assert sent.chat.is_forum and sent.chat.type == "supergroup"

    assert await bot.close_forum_topic(group.id, topic.message_thread_id)
    with pytest.raises(TelegramBadRequest, match="TOPIC_NOT_MODIFIED"):
        await bot.close_forum_topic(group.id, topic.message_thread_id)
    assert tg.topic(group.id, topic.message_thread_id).closed
    assert await bot.reopen_forum_topic(group.id, topic.message_thread_id)
    assert await bot.edit_forum_topic(group.id, topic.message_thread_id, name="Ann (1)")
    with pytest.raises(TelegramBadRequest, match="TOPIC_NOT_MODIFIED"):
        await bot.edit_forum_topic(group.id, topic.message_thread_id, name="Ann (1)")

    assert await bot.delete_forum_topic(group.id, topic.message_thread_id)
    with pytest.raises(TelegramBadRequest, match="message thread not found"):
        await bot.send_message(group.id, "again", message_thread_id=topic.message_thread_id)
    with pytest.raises(TelegramBadRequest, match="TOPIC_ID_INVALID"):
        await bot.close_forum_topic(group.id, topic.message_thread_id)
    assert tg.in_topic(group.id, topic.message_thread_id) == []  # its messages went with it


async def test_topics_need_a_forum_and_the_right_to_manage_them(tg: TelegramSandbox, bot: Bot) -> None:
    plain = tg.add_group("Plain", forum=False)
    with pytest.raises(TelegramBadRequest, match="the chat is not a forum"):
        await bot.create_forum_topic(plain.id, "x")
    with pytest.raises(TelegramBadRequest, match="message thread not found"):
        await bot.send_message(plain.id, "x", message_thread_id=5)
    forum = tg.add_group("Forum")
    forum.bot_can_manage_topics = False
    with pytest.raises(TelegramBadRequest, match="not enough rights to create a topic"):
        await bot.create_forum_topic(forum.id, "x")
    forum.bot_can_manage_topics = True
    with pytest.raises(TelegramBadRequest, match="TOPIC_ICON_COLOR_INVALID"):
        await bot.create_forum_topic(forum.id, "x", icon_color=123)
    with pytest.raises(TelegramBadRequest, match="TOPIC_TITLE_TOO_LONG"):
        await bot.create_forum_topic(forum.id, "x" * 129)


async def test_every_content_kind_is_copied_between_a_chat_and_a_topic(tg: TelegramSandbox, bot: Bot) -> None:
    group = tg.add_group("Desk")
    thread = (await bot.create_forum_topic(group.id, "Ann")).message_thread_id
    for kind, data in [
        ("photo", png()),
        ("video", b"v"),
        ("document", b"d"),
        ("voice", b"o"),
        ("sticker", b"s"),
    ]:
        caption = None if kind == "sticker" else f"{kind}!"
        await tg.send_media(CUSTOMER, kind, data, caption)
    await tg.send_text(CUSTOMER, "plain text")
    people = [m for m in tg.world.chats[CUSTOMER] if not m.from_bot]
    for message in people:
        await bot.copy_message(group.id, CUSTOMER, message.message_id, message_thread_id=thread)
    copies = [m for m in tg.in_topic(group.id, thread) if m.from_bot and "forum_topic_created" not in m.extra]
    assert [m.media_kind for m in copies] == ["photo", "video", "document", "voice", "sticker", None]
    assert [m.caption for m in copies[:3]] == ["photo!", "video!", "document!"]
    assert copies[4].caption is None and copies[5].text == "plain text"

    answer = await tg.post(group.id, OPERATOR, media=("voice", b"ogg"), thread_id=thread)
    copy = await bot.copy_message(CUSTOMER, group.id, answer.message_id)
    assert tg.last(CUSTOMER).message_id == copy.message_id and tg.last(CUSTOMER).media_kind == "voice"
    created = next(m for m in tg.in_topic(group.id, thread) if "forum_topic_created" in m.extra)
    with pytest.raises(TelegramBadRequest, match="message can't be copied"):
        await bot.copy_message(CUSTOMER, group.id, created.message_id)
    tg.block(CUSTOMER)
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.copy_message(CUSTOMER, group.id, answer.message_id)


async def test_members_admins_and_posts_in_topics_reach_the_bot(tg: TelegramSandbox, bot: Bot) -> None:
    group = tg.add_group("Desk")
    tg.set_group_member(group.id, OPERATOR, "administrator")
    tg.set_group_member(group.id, MEMBER, "member")
    assert (await bot.get_chat_member(group.id, OPERATOR)).status == "administrator"
    assert (await bot.get_chat_member(group.id, MEMBER)).status == "member"
    assert (await bot.get_chat_member(group.id, CUSTOMER)).status == "left"
    admins = await bot.get_chat_administrators(group.id)
    assert sorted(admin.user.id for admin in admins) == sorted([OPERATOR, tg.world.bot_id])
    with pytest.raises(TelegramBadRequest, match="there are no administrators in the private chat"):
        await bot.get_chat_administrators(CUSTOMER)

    thread = (await bot.create_forum_topic(group.id, "Ann")).message_thread_id
    seen: list[Message] = []
    dispatcher = Dispatcher()
    dispatcher.message.register(lambda message: seen.append(message))
    await tg.post(group.id, OPERATOR, "answer", thread_id=thread)
    await tg.post(group.id, None, "as the group", thread_id=thread)
    await tg.close_topic(group.id, thread, OPERATOR)
    await tg.reopen_topic(group.id, thread, OPERATOR)
    for update in await bot.get_updates(timeout=0):
        await dispatcher.feed_update(bot, update)
    answer, anonymous, closed, reopened = seen
    assert answer.from_user is not None and answer.from_user.id == OPERATOR
    assert answer.message_thread_id == thread and answer.is_topic_message and answer.text == "answer"
    assert anonymous.sender_chat is not None and anonymous.sender_chat.id == group.id
    assert anonymous.from_user is not None and anonymous.from_user.username == "GroupAnonymousBot"
    assert closed.forum_topic_closed is not None and closed.message_thread_id == thread
    assert reopened.forum_topic_reopened is not None


async def test_an_upgraded_group_answers_with_its_new_id(tg: TelegramSandbox, bot: Bot) -> None:
    basic = tg.add_group("Desk", basic=True)
    await bot.send_message(basic.id, "before")
    new = await tg.upgrade_group(basic.id, OPERATOR)
    with pytest.raises(TelegramMigrateToChat) as raised:
        await bot.send_message(basic.id, "after")
    assert raised.value.migrate_to_chat_id == new.id and "upgraded to a supergroup" in raised.value.message
    topic = await bot.create_forum_topic(new.id, "Ann")
    assert topic.message_thread_id > 0
    updates = await bot.get_updates(timeout=0)
    migrations = [update.message for update in updates if update.message]
    assert [m.migrate_to_chat_id for m in migrations] == [new.id, None]
    assert [m.migrate_from_chat_id for m in migrations] == [None, basic.id]
