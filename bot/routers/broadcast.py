"""Operator broadcast (ADMIN_IDS only): the message to copy (any content), an optional URL button, a
preview, then Send, which starts `broadcast:<id>` once however many taps. /cancel at any step.

The composing steps live in aiogram's FSM (this process's memory): a restart mid-way means starting
over. The preview's buttons carry the draft's id, so Send and Cancel work after a restart too.
"""

from __future__ import annotations

import logging

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message
from temporalio.service import RPCError

from bot.broadcast_messages import progress_text
from bot.callbacks import BroadcastAction, Broadcasting
from bot.keyboards import broadcast as keyboards
from bot.routers.admin import IsAdmin
from bot.texts import t
from bot.ui import alert, show
from shop.customers.users import Customer
from shop.messaging.broadcast_control import (
    BadButton,
    BroadcastControl,
    StartOutcome,
    StopOutcome,
    UrlButton,
    parse_button,
)

log = logging.getLogger(__name__)
START_ANSWERS = {
    StartOutcome.ALREADY: "bc_already",
    StartOutcome.CANCELED: "bc_was_canceled",
    StartOutcome.UNKNOWN: "stale_button",
}
STOP_ANSWERS = {
    StopOutcome.STOPPING: "bc_stopping",
    StopOutcome.OVER: "bc_over",
    StopOutcome.UNKNOWN: "stale_button",
}


class Compose(StatesGroup):
    message = State()
    button = State()
    confirm = State()


async def begin(query: CallbackQuery, state: FSMContext, lang: str) -> None:
    await state.clear()
    await state.set_state(Compose.message)
    await show(query, t(lang, "bc_ask_message"), keyboards.composing(lang))
    await query.answer()


async def cancel_command(
    message: Message, state: FSMContext, broadcasting: BroadcastControl, customer: Customer, lang: str
) -> None:
    draft = (await state.get_data()).get("broadcast_id")
    await state.clear()
    if draft:  # the preview's Send button must not start it any more
        await broadcasting.stop(customer.id, draft)
    await message.answer(t(lang, "bc_canceled"))


async def got_message(message: Message, state: FSMContext, lang: str) -> None:
    if (message.text or "").startswith("/"):
        await message.answer(t(lang, "bc_not_command"))
        return
    await state.update_data(chat_id=message.chat.id, message_id=message.message_id)
    await state.set_state(Compose.button)
    await message.answer(
        t(lang, "bc_ask_button"), reply_markup=keyboards.composing(lang, offer_no_button=True)
    )


async def got_button(
    message: Message,
    state: FSMContext,
    bot: Bot,
    broadcasting: BroadcastControl,
    customer: Customer,
    lang: str,
) -> None:
    try:
        button = parse_button(message.text or "")
    except BadButton as bad:
        await message.answer(t(lang, bad.key), reply_markup=keyboards.composing(lang, offer_no_button=True))
        return
    await preview(bot, state, broadcasting, customer, lang, button)


async def no_button(
    query: CallbackQuery,
    state: FSMContext,
    bot: Bot,
    broadcasting: BroadcastControl,
    customer: Customer,
    lang: str,
) -> None:
    await query.answer()
    await preview(bot, state, broadcasting, customer, lang, None)


async def preview(
    bot: Bot,
    state: FSMContext,
    broadcasting: BroadcastControl,
    customer: Customer,
    lang: str,
    button: UrlButton | None,
) -> None:
    """The copy exactly as customers will get it; the draft (and so the broadcast's id) is made only
    once Telegram has accepted that copy."""
    data = await state.get_data()
    source_chat, source_message = data["chat_id"], data["message_id"]
    markup = keyboards.url_markup(button.text, button.url) if button else None
    try:
        await bot.copy_message(customer.id, source_chat, source_message, reply_markup=markup)
    except TelegramBadRequest as error:
        if button is not None and "url" in error.message.lower():
            await bot.send_message(
                customer.id,
                t(lang, "bc_button_refused"),
                reply_markup=keyboards.composing(lang, offer_no_button=True),
            )
            return
        log.info("broadcast source %s/%s cannot be copied: %s", source_chat, source_message, error.message)
        await state.set_state(Compose.message)
        await bot.send_message(
            customer.id, t(lang, "bc_not_copyable"), reply_markup=keyboards.composing(lang)
        )
        return
    broadcast_id = await broadcasting.create(customer.id, source_chat, source_message, button)
    await state.update_data(broadcast_id=broadcast_id)
    await state.set_state(Compose.confirm)
    text = t(lang, "bc_preview", count=await broadcasting.reachable())
    await bot.send_message(customer.id, text, reply_markup=keyboards.confirm(lang, broadcast_id))


async def use_the_buttons(message: Message, lang: str) -> None:
    await message.answer(t(lang, "bc_use_buttons"))


async def not_a_button(message: Message, lang: str) -> None:
    await message.answer(
        t(lang, "bc_button_format"), reply_markup=keyboards.composing(lang, offer_no_button=True)
    )


async def send(
    query: CallbackQuery,
    callback_data: Broadcasting,
    state: FSMContext,
    broadcasting: BroadcastControl,
    customer: Customer,
    lang: str,
) -> None:
    try:
        outcome = await broadcasting.start(customer.id, callback_data.broadcast_id)
    except (RPCError, RuntimeError) as error:  # Temporal unreachable: nothing started, tap again
        log.warning("broadcast %s not started: %s", callback_data.broadcast_id, error)
        await alert(query, t(lang, "bc_try_later"))
        return
    if outcome is not StartOutcome.STARTED:
        await alert(query, t(lang, START_ANSWERS[outcome]))
        return
    await state.clear()
    await show(query, t(lang, "bc_started"), keyboards.running(lang, callback_data.broadcast_id))
    await query.answer()


async def cancel(
    query: CallbackQuery,
    callback_data: Broadcasting,
    state: FSMContext,
    broadcasting: BroadcastControl,
    customer: Customer,
    lang: str,
) -> None:
    """Cancel while composing, cancel the previewed draft, or Stop a running broadcast."""
    outcome = StopOutcome.CANCELED
    if callback_data.broadcast_id:
        try:
            outcome = await broadcasting.stop(customer.id, callback_data.broadcast_id)
        except (RPCError, RuntimeError) as error:
            log.warning("broadcast %s not stopped: %s", callback_data.broadcast_id, error)
            await alert(query, t(lang, "bc_try_later"))
            return
    if outcome is not StopOutcome.CANCELED:
        await alert(query, t(lang, STOP_ANSWERS[outcome]))
        return
    if (await state.get_data()).get("broadcast_id") in ("", None, callback_data.broadcast_id):
        await state.clear()
    await show(query, t(lang, "bc_canceled"))
    await query.answer()


async def progress(
    query: CallbackQuery,
    callback_data: Broadcasting,
    broadcasting: BroadcastControl,
    customer: Customer,
    lang: str,
) -> None:
    found = await broadcasting.progress(customer.id, callback_data.broadcast_id)
    if found is None:
        await alert(query, t(lang, "stale_button"))
        return
    running = found.state in ("starting", "sending")
    await show(
        query,
        progress_text(lang, found),
        keyboards.running(lang, callback_data.broadcast_id) if running else None,
    )
    await query.answer()


def build() -> Router:
    router = Router(name="broadcast")
    router.message.filter(IsAdmin())
    router.callback_query.filter(IsAdmin())
    router.callback_query.register(begin, Broadcasting.filter(F.action == BroadcastAction.NEW))
    router.message.register(cancel_command, Command("cancel"), StateFilter(Compose))
    router.message.register(got_message, StateFilter(Compose.message))
    router.message.register(got_button, StateFilter(Compose.button), F.text, ~F.text.startswith("/"))
    router.message.register(not_a_button, StateFilter(Compose.button))
    router.message.register(use_the_buttons, StateFilter(Compose.confirm))
    router.callback_query.register(
        no_button, Broadcasting.filter(F.action == BroadcastAction.NO_BUTTON), StateFilter(Compose.button)
    )
    router.callback_query.register(
        send, Broadcasting.filter((F.action == BroadcastAction.SEND) & F.broadcast_id)
    )
    router.callback_query.register(cancel, Broadcasting.filter(F.action == BroadcastAction.CANCEL))
    router.callback_query.register(
        progress, Broadcasting.filter((F.action == BroadcastAction.PROGRESS) & F.broadcast_id)
    )
    return router
