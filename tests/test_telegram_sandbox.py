"""The Telegram sandbox answers aiogram 3 over HTTP as the Bot API does, errors included."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiogram import Bot, Dispatcher, F
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramRetryAfter,
    TelegramUnauthorizedError,
)
from aiogram.types import (
    BotCommand,
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LabeledPrice,
    Message,
    PreCheckoutQuery,
)
from PIL import Image
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from sandbox.serving import serve
from sandbox.telegram import TelegramSandbox


def bot_for(tg: TelegramSandbox, token: str | None = None) -> Bot:
    return Bot(token or tg.token, session=AiohttpSession(api=TelegramAPIServer.from_base(tg.api_url)))


@pytest.fixture
async def tg() -> AsyncIterator[TelegramSandbox]:
    async with TelegramSandbox(webhook_retry_delay=0.05) as sandbox:
        sandbox.add_user(1, "Ann", username="ann", language_code="en")
        yield sandbox


@pytest.fixture
async def bot(tg: TelegramSandbox) -> AsyncIterator[Bot]:
    bot = bot_for(tg)
    yield bot
    await bot.session.close()


def keyboard(*data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[InlineKeyboardButton(text=item, callback_data=item)] for item in data]
    )


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 6), "white").save(buffer, "PNG")
    return buffer.getvalue()


async def test_identity_and_wrong_token(tg: TelegramSandbox, bot: Bot) -> None:
    me = await bot.get_me()
    assert (me.id, me.username, me.is_bot) == (123456789, "sandbox_shop_bot", True)
    stranger = bot_for(tg, "42:wrong")
    with pytest.raises(TelegramUnauthorizedError):
        await stranger.get_me()
    await stranger.session.close()


async def test_messages_are_parsed_edited_and_deleted_like_telegram(tg: TelegramSandbox, bot: Bot) -> None:
    sent = await bot.send_message(1, "<b>Hi</b> &lt;you&gt;", parse_mode="HTML", reply_markup=keyboard("a"))
    record = tg.last(1)
    assert (sent.text, record.text, record.html) == ("Hi <you>", "Hi <you>", "<b>Hi</b> &lt;you&gt;")
    assert record.button_texts == ["a"]
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text(
            chat_id=1, message_id=sent.message_id, text="<b>Hi</b> &lt;you&gt;", parse_mode="HTML",
            reply_markup=keyboard("a"),
        )  # fmt: skip
    await bot.edit_message_text(chat_id=1, message_id=sent.message_id, text="Bye")
    assert (tg.last(1).text, tg.last(1).reply_markup, tg.last(1).edited) == ("Bye", None, True)
    with pytest.raises(TelegramBadRequest, match='can\'t parse entities: Unsupported start tag "x"'):
        await bot.send_message(1, "a <x>b</x>", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="Can't find end tag"):
        await bot.send_message(1, "<b>open", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(1, "x", reply_markup=keyboard("x" * 65))
    await bot.delete_message(1, sent.message_id)
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await bot.delete_message(1, sent.message_id)
    assert tg.messages(1) == []


async def test_unknown_chat_blocked_user_and_rate_limit(tg: TelegramSandbox, bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.send_message(999, "hello")
    tg.block(1)
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await bot.send_message(1, "hello")
    tg.block(1, blocked=False)
    tg.set_rate_limit(3)
    for number in range(3):
        await bot.send_message(1, f"m{number}")
    with pytest.raises(TelegramRetryAfter) as limited:
        await bot.send_message(1, "one too many")
    assert limited.value.retry_after == 1
    assert [m.text for m in tg.messages(1)] == ["m0", "m1", "m2"]
    await asyncio.sleep(1.05)
    await bot.send_message(1, "after the pause")
    assert tg.last(1).text == "after the pause"


async def test_photo_upload_and_copy(tg: TelegramSandbox, bot: Bot) -> None:
    image = png()
    sent = await bot.send_photo(1, BufferedInputFile(image, "qr.png"), caption="<i>QR</i>", parse_mode="HTML")
    assert sent.photo is not None and (sent.photo[-1].width, sent.photo[-1].height) == (8, 6)
    assert (tg.last(1).photo, tg.last(1).caption) == (image, "QR")
    with pytest.raises(TelegramBadRequest, match="IMAGE_PROCESS_FAILED"):
        await bot.send_photo(1, BufferedInputFile(b"not an image", "x.png"))
    tg.add_user(2, "Bob")
    copied = await bot.copy_message(chat_id=2, from_chat_id=1, message_id=sent.message_id)
    assert tg.last(2).photo == image and tg.last(2).message_id == copied.message_id


async def test_a_users_video_and_document_are_delivered_and_copied_with_caption_and_buttons(
    tg: TelegramSandbox, bot: Bot
) -> None:
    tg.add_user(2, "Bob")
    received: list[Message] = []
    dispatcher = Dispatcher()

    @dispatcher.message()
    async def keep(message: Message) -> None:
        received.append(message)

    polling = asyncio.create_task(dispatcher.start_polling(bot, handle_signals=False, handle_as_tasks=False))
    try:
        await tg.send_media(1, "video", b"\x00\x00\x00\x18ftypmp42", caption="clip")
        await tg.send_media(1, "document", b"%PDF-1.4", caption="terms", file_name="terms.pdf")
        await tg.send_media(1, "photo", png())
        await tg.settle()
    finally:
        await dispatcher.stop_polling()
        await polling
    video, document, photo = received
    assert video.video is not None and video.video.duration == 5 and video.caption == "clip"
    assert document.document is not None and document.document.file_name == "terms.pdf"
    assert photo.photo is not None and photo.caption is None
    for source, kind in ((video, "video"), (document, "document"), (photo, "photo")):
        await bot.copy_message(2, 1, source.message_id, reply_markup=keyboard("more"))
        copy = tg.last(2)
        assert (copy.media_kind, copy.caption, copy.button_texts) == (kind, source.caption, ["more"])
    with pytest.raises(TelegramBadRequest, match="message to copy not found"):
        await bot.copy_message(2, 1, 999)
    with pytest.raises(ValueError, match="unsupported media kind"):
        await tg.send_media(1, "hologram", b"")


async def test_polling_dispatcher_gets_messages_and_callbacks(tg: TelegramSandbox, bot: Bot) -> None:
    dispatcher = Dispatcher()

    @dispatcher.message(F.text)
    async def echo(message: Message) -> None:
        await message.answer(f"echo {message.text}", reply_markup=keyboard("tap"))

    @dispatcher.callback_query()
    async def tapped(query: CallbackQuery) -> None:
        await query.answer("tapped!", show_alert=True)

    polling = asyncio.create_task(dispatcher.start_polling(bot, handle_signals=False, handle_as_tasks=False))
    try:
        await tg.send_text(1, "/start")
        await tg.send_text(1, "hello")
        await tg.settle()
        assert [m.text for m in tg.messages(1)] == ["echo /start", "echo hello"]
        query = await tg.press(1, tg.last(1), "tap")
        await tg.settle()
        answer = tg.callback_answer(query)
        assert answer is not None and (answer.text, answer.show_alert) == ("tapped!", True)
        with pytest.raises(TelegramBadRequest, match="query is too old"):
            await bot.answer_callback_query(query)
    finally:
        await dispatcher.stop_polling()
        await polling
    assert tg.world.updates == []


async def test_webhook_redelivers_until_2xx_with_secret_header(tg: TelegramSandbox, bot: Bot) -> None:
    received: list[tuple[int, str | None]] = []

    async def hook(request: Request) -> Response:
        update: dict[str, Any] = await request.json()
        received.append((update["update_id"], request.headers.get("x-telegram-bot-api-secret-token")))
        return Response(status_code=500 if len(received) < 3 else 200)

    async with serve(Starlette(routes=[Route("/hook", hook, methods=["POST"])])) as base:
        await bot.set_webhook(f"{base}/hook", secret_token="s3cret")
        with pytest.raises(TelegramConflictError, match="webhook is active"):
            await bot.get_updates()
        update_id = await tg.send_text(1, "hi")
        await tg.settle()
        info = await bot.get_webhook_info()
    assert received == [(update_id, "s3cret")] * 3
    assert info.pending_update_count == 0 and "500" in (info.last_error_message or "")
    await bot.delete_webhook()
    assert await bot.get_updates(timeout=0) == []


async def test_stars_invoice_payment_and_refunds(tg: TelegramSandbox, bot: Bot) -> None:
    dispatcher = Dispatcher()
    paid: list[str] = []

    @dispatcher.pre_checkout_query()
    async def check(query: PreCheckoutQuery) -> None:
        if query.invoice_payload == "order-1":
            await query.answer(ok=True)
        else:
            await query.answer(ok=False, error_message="This invoice is no longer valid")

    @dispatcher.message(F.successful_payment)
    async def on_paid(message: Message) -> None:
        assert message.successful_payment is not None
        paid.append(message.successful_payment.telegram_payment_charge_id)

    prices = [LabeledPrice(label="30 days", amount=150)]
    await bot.send_invoice(1, "VPN 30 days", "All servers", "order-1", "XTR", prices)
    with pytest.raises(TelegramBadRequest, match="STARS_INVOICE_INVALID"):
        await bot.send_invoice(1, "VPN", "x", "order-2", "XTR", [*prices, *prices])
    link = await bot.create_invoice_link("VPN 30 days", "All servers", "order-9", "XTR", prices)
    polling = asyncio.create_task(dispatcher.start_polling(bot, handle_signals=False, handle_as_tasks=False))
    try:
        charge = await tg.pay(1, tg.last(1))
        assert charge is not None
        await tg.settle()
        assert paid == [charge.id]
        assert await tg.pay(1, tg.invoice(link)) is None
        refused = list(tg.world.pre_checkouts.values())[-1]
        assert (refused.ok, refused.error_message) == (False, "This invoice is no longer valid")
        with pytest.raises(TelegramBadRequest, match="USER_ID_INVALID"):
            await bot.refund_star_payment(2, charge.id)
        assert await bot.refund_star_payment(1, charge.id) is True
        with pytest.raises(TelegramBadRequest, match="CHARGE_ALREADY_REFUNDED"):
            await bot.refund_star_payment(1, charge.id)
        with pytest.raises(TelegramBadRequest, match="CHARGE_NOT_FOUND"):
            await bot.refund_star_payment(1, "stxUnknown")
        await tg.settle()
    finally:
        await dispatcher.stop_polling()
        await polling


async def test_late_pre_checkout_answer_is_refused(tg: TelegramSandbox, bot: Bot) -> None:
    tg.set_pre_checkout_timeout(0.1)
    query = await tg.pre_checkout(1, "order-1", 150)
    await asyncio.sleep(0.15)
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_pre_checkout_query(query.id, ok=True)
    assert not query.answered


async def test_channel_membership_and_commands(tg: TelegramSandbox, bot: Bot) -> None:
    tg.add_channel("news")
    tg.set_membership("news", 1, "member")
    assert (await bot.get_chat_member("@news", 1)).status == "member"
    tg.set_membership("news", 1, "left")
    assert (await bot.get_chat_member("@news", 1)).status == "left"
    tg.set_bot_admin("news", False)
    with pytest.raises(TelegramBadRequest, match="member list is inaccessible"):
        await bot.get_chat_member("@news", 1)
    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await bot.get_chat_member("@elsewhere", 1)
    await bot.set_my_commands([BotCommand(command="start", description="Start")], language_code="en")
    assert tg.commands(language="en") == [{"command": "start", "description": "Start"}]
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="Bad Command", description="x")])
    assert await bot.send_chat_action(1, "typing") is True
