"""The support desk's own bot, both sides through the real Dispatcher against the Telegram sandbox:
tickets and topics, two-way copies of every content kind, who may answer, the topic's lifecycle,
restarts and redelivered updates."""

from __future__ import annotations

import io

from PIL import Image

from shop.models import MessageDirection, PaymentMethod, SupportDelivery, TicketStatus
from shop.support import journal
from shop.support.tickets import ticket_of
from tests.bot.desk_kit import MEMBER, OPERATOR, SupportDesk
from tests.factories import delivered_payment

KINDS = ("photo", "video", "document", "voice", "sticker")


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "blue").save(buffer, "PNG")
    return buffer.getvalue()


def media(kind: str) -> bytes:
    return png() if kind == "photo" else f"{kind}-bytes".encode()


async def test_first_message_opens_a_ticket_with_its_topic_and_summary_card(desk: SupportDesk) -> None:
    ann = desk.customer(1, "Ann", "ann")
    await ann.says("/start")
    assert ann.texts == ["👋 This is vpnshop support. Describe your problem and an operator answers here."]
    assert desk.topics() == []  # /start alone opens nothing
    owner = await desk.ctx.storefront.current()
    await delivered_payment(desk.ctx.sessions, owner, 1, PaymentMethod.YOOKASSA, "199.00")

    await ann.says("My VPN does not connect")
    topic = desk.topic_of("Ann")
    assert topic.name == "Ann @ann (1)"
    card, copy = desk.in_topic(topic)
    assert card.text is not None
    assert card.text.startswith("👤 Ann @ann\nID: 1 · language: en\n\n🔑 No subscription yet.")
    assert "💳 Last payments:\n• " in card.text and "199 ₽ · delivered" in card.text
    assert "👥 Invited: 0 · referral balance: 0 ₽" in card.text
    assert card.text.endswith("🔗 https://shop.example/console/customers/1")
    assert copy.text == "My VPN does not connect"
    assert ann.texts[-1] == "✅ Your message reached support. An operator answers here as soon as possible."
    [entry] = await desk.journal_of(1)
    assert (entry.direction, entry.status, entry.copy_message_id) == (
        MessageDirection.IN, SupportDelivery.DELIVERED, copy.message_id,
    )  # fmt: skip

    await ann.says("Still nothing")
    assert desk.topic_texts(topic)[1:] == ["My VPN does not connect", "Still nothing"]
    assert len(desk.topics()) == 1 and len(ann.received) == 2  # acknowledged once per opening


async def test_every_content_kind_is_copied_both_ways(desk: SupportDesk) -> None:
    ann = desk.customer(1, "Ann")
    for kind in KINDS:
        await ann.sends(kind, media(kind), None if kind == "sticker" else f"my {kind}")
    topic = desk.topic_of("Ann")
    copies = desk.in_topic(topic)[1:]
    assert [m.media_kind for m in copies] == list(KINDS)
    assert [m.caption for m in copies] == ["my photo", "my video", "my document", "my voice", None]
    assert desk.tg.world.files[copies[0].extra["photo_sizes"][0]["file_id"]] == png()

    for kind in KINDS:
        await desk.operator_says(topic, media=(kind, media(kind)))
    await desk.operator_says(topic, "Try another server")
    answers = ann.received[1:]  # after the acknowledgement
    assert [m.media_kind for m in answers] == [*KINDS, None]
    assert answers[-1].text == "Try another server"
    entries = await desk.journal_of(1)
    assert [(e.direction, e.kind) for e in entries] == [
        *((MessageDirection.IN, kind) for kind in KINDS),
        *((MessageDirection.OUT, kind) for kind in KINDS),
        (MessageDirection.OUT, "text"),
    ]
    assert {e.status for e in entries} == {SupportDelivery.DELIVERED}


async def test_only_admins_or_the_group_itself_answer(desk: SupportDesk) -> None:
    ann = desk.customer(1, "Ann")
    await ann.says("Hello?")
    topic = desk.topic_of("Ann")
    await desk.operator_says(topic, "I am just a member", by=MEMBER)
    assert ann.texts[-1].startswith("✅ Your message reached support")  # nothing new
    await desk.operator_says(topic, "Posted as the group", by=None)
    await desk.operator_says(topic, "Olga here", by=OPERATOR)
    assert ann.texts[-2:] == ["Posted as the group", "Olga here"]
    assert len(await desk.journal_of(1)) == 3  # the member's message is not the customer's business


async def test_closing_the_topic_closes_the_ticket_and_the_next_message_reopens_it(desk: SupportDesk) -> None:
    ann = desk.customer(1, "Ann")
    await ann.says("Help")
    topic = desk.topic_of("Ann")
    await desk.tg.close_topic(desk.chat_id, topic.thread_id, OPERATOR)
    await desk.tg.settle()
    assert ann.texts[-1] == "✅ Your support request is closed. Write again any time and it opens again."
    ticket = await ticket_of(desk.ctx.sessions, 1)
    assert ticket is not None and ticket.status is TicketStatus.CLOSED

    await ann.says("It broke again")
    assert not desk.tg.topic(desk.chat_id, topic.thread_id).closed
    assert desk.topic_texts(topic)[-2:] == [
        "🔓 The customer wrote again: the ticket is open.",
        "It broke again",
    ]
    ticket = await ticket_of(desk.ctx.sessions, 1)
    assert ticket is not None and ticket.status is TicketStatus.OPEN and len(desk.topics()) == 1
    assert ann.texts[-1].startswith("✅ Your message reached support")


async def test_a_deleted_topic_is_restored_with_the_last_messages(desk: SupportDesk) -> None:
    ann = desk.customer(1, "Ann", "ann")
    await ann.says("First question")
    old = desk.topic_of("Ann")
    await desk.operator_says(old, "First answer")
    await ann.sends("photo", png(), "screenshot")
    desk.tg.delete_topic(desk.chat_id, old.thread_id)

    await ann.says("Are you there?")
    new = desk.topic_of("Ann")
    assert new.thread_id != old.thread_id and new.name == "Ann @ann (1)"
    texts = desk.topic_texts(new)
    assert texts[0].startswith("👤 Ann @ann")
    assert texts[1:] == [
        "♻️ Topic restored: the previous one was deleted. The last messages follow.",
        "First question", "First answer", "screenshot", "Are you there?",
    ]  # fmt: skip
    ticket = await ticket_of(desk.ctx.sessions, 1)
    assert ticket is not None and ticket.thread_id == new.thread_id
    await desk.operator_says(new, "Yes")
    assert ann.texts[-1] == "Yes"


async def test_a_restart_mid_conversation_loses_and_doubles_nothing(desk: SupportDesk) -> None:
    ann = desk.customer(1, "Ann")
    first = await ann.says("One")
    topic = desk.topic_of("Ann")
    await desk.operator_says(topic, "Answer one")
    await desk.stop()
    # While the desk is down: the customer and the operator go on writing.
    await desk.tg.send_text(1, "Two")
    await desk.tg.send_text(1, "Three")
    await desk.tg.post(desk.chat_id, OPERATOR, "Answer two", thread_id=topic.thread_id)
    # And Telegram delivers the first message again (the confirmation of it was lost).
    await desk.tg.redeliver(first)
    # The run before had recorded "Zero" and died (or lost the network) before copying it, and its
    # update was confirmed all the same: the journal alone remembers it.
    zero = desk.tg.world.add_message(1, False, text="Zero")
    ticket = await ticket_of(desk.ctx.sessions, 1)
    assert ticket is not None
    await journal.record(desk.ctx.sessions, ticket.id, MessageDirection.IN, 1, zero.message_id, "text")
    await desk.start()
    await desk.tg.settle()
    # The operator's second answer stands where they wrote it; the customer's copies follow, once.
    assert desk.topic_texts(topic)[1:] == ["One", "Answer one", "Answer two", "Zero", "Two", "Three"]
    assert ann.texts[1:] == ["Answer one", "Answer two"]
    entries = await desk.journal_of(1)
    assert len(entries) == 6 and {e.status for e in entries} == {SupportDelivery.DELIVERED}
    await desk.stop()
    await desk.start()  # nothing pending: a second restart copies nothing
    assert len(desk.topic_texts(topic)) == 7


async def test_bad_input_gets_a_clear_answer_and_changes_nothing(desk: SupportDesk) -> None:
    ann = desk.customer(1, "Ann")
    await ann.sends("location", b"")
    assert ann.texts == [
        "This kind of message cannot be passed to support. Please send text, a photo, a video, a file, "
        "a voice message or a sticker."
    ]
    assert desk.topics() == [] and await ticket_of(desk.ctx.sessions, 1) is None

    await ann.says("Hi")
    topic = desk.topic_of("Ann")
    await desk.operator_says(topic, media=("location", b""))
    assert desk.topic_texts(topic)[-1].startswith("⚠️ This kind of message cannot be sent to the customer")
    desk.tg.block(1)
    await desk.operator_says(topic, "Are you still there?")
    assert desk.topic_texts(topic)[-1] == "⚠️ Not delivered: the customer blocked the bot."
    entries = await desk.journal_of(1)
    assert [(e.direction, e.status) for e in entries] == [
        (MessageDirection.IN, SupportDelivery.DELIVERED),
        (MessageDirection.OUT, SupportDelivery.BLOCKED),
    ]
    assert entries[1].error is not None and "blocked" in entries[1].error
