"""Who reaches the desk: the operators' group (answers, commands, topic lifecycle) and customers,
either in a bot of its own (every private message) or in the shop bot (after "Write to support",
while their ticket is open)."""

from __future__ import annotations

import logging

from aiogram import Bot, Dispatcher, F, Router
from aiogram.filters import CommandStart
from aiogram.types import CallbackQuery, Message, User

from bot.callbacks import SupportChat
from bot.support.desk import Desk, from_a_person
from bot.support.tools import Tools
from bot.texts import language_for, t
from shop.context import AppContext
from shop.customers.admin import AccessSync
from shop.customers.users import Customer, get_customer, register
from shop.messaging.pacing import RateLimiter
from shop.support.tickets import ticket_of

log = logging.getLogger(__name__)


class Desks:
    """One desk per bot in this process, sharing the process's Telegram pace."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.limiter = RateLimiter(ctx.settings.telegram_messages_per_second)
        self._desks: dict[int, Desk] = {}

    def of(self, bot: Bot) -> Desk:
        if bot.id not in self._desks:
            self._desks[bot.id] = Desk(self.ctx, bot, self.limiter)
        return self._desks[bot.id]


async def resume(dispatcher: Dispatcher, bot: Bot) -> None:
    """Before polling: what a previous run recorded but never confirmed is copied now."""
    taken = await dispatcher["desks"].of(bot).resume()
    if taken:
        log.info("support desk resumed %d unconfirmed copies", taken)


async def _in_support_group(message: Message, desks: Desks, bot: Bot) -> bool:
    return message.chat.id == await desks.of(bot).chat()


async def in_group(message: Message, desks: Desks, bot: Bot, access_sync: AccessSync) -> None:
    desk = desks.of(bot)
    if message.migrate_to_chat_id:
        await desk.group_upgraded(message.chat.id, message.migrate_to_chat_id)
        return
    found = await desk.customer_of(message)
    if found is None:
        return  # the General topic, or a topic that is no ticket's
    ticket, customer = found
    if message.forum_topic_closed:
        await desk.topic_closed(ticket, customer)
    elif message.forum_topic_reopened:
        await desk.topic_reopened(ticket)
    elif not from_a_person(message) or not await desk.is_operator(message):
        return  # service messages, and members who are not admins, are not the customer's business
    elif (message.text or "").startswith("/"):
        await Tools(desk, access_sync).run(message, ticket, customer)
    else:
        await desk.to_customer(message, ticket, customer)


def group_router() -> Router:
    router = Router(name="support-group")
    router.message.register(in_group, F.chat.type.in_({"group", "supergroup"}), _in_support_group)
    return router


# --- customers of a support bot of its own ---------------------------------------------------
async def _customer(ctx: AppContext, user: User) -> Customer:
    """Whoever writes to the support bot becomes a customer (names refreshed if they are one)."""
    existing = await get_customer(ctx.sessions, user.id)
    if existing is not None:
        return existing
    customer, _ = await register(
        ctx.sessions, user.id, user.username, user.full_name, language_for(user.language_code)
    )
    return customer


async def hello(message: Message, ctx: AppContext, desks: Desks, bot: Bot) -> None:
    if message.from_user is None:
        return
    customer = await _customer(ctx, message.from_user)
    shop = (await ctx.storefront.current()).shop_name
    await message.answer(t(customer.language, "support_hello", shop=shop))


async def from_customer(message: Message, ctx: AppContext, desks: Desks, bot: Bot) -> None:
    if message.from_user is None:
        return
    await desks.of(bot).from_customer(message, await _customer(ctx, message.from_user))


def own_bot_router() -> Router:
    router = Router(name="support-customers")
    router.message.filter(F.chat.type == "private")
    router.message.register(hello, CommandStart())
    router.message.register(from_customer)
    return router


# --- customers of the shop bot ---------------------------------------------------------------
async def start_chat(query: CallbackQuery, customer: Customer, desks: Desks, bot: Bot, lang: str) -> None:
    await desks.of(bot).start_conversation(customer)
    await query.answer()
    await bot.send_message(customer.id, t(lang, "support_chat_intro"))


async def _ticket_open(message: Message, ctx: AppContext) -> bool:
    if message.from_user is None or (message.text or "").startswith("/"):
        return False
    ticket = await ticket_of(ctx.sessions, message.from_user.id)
    return ticket is not None and ticket.is_open


async def shop_customer(message: Message, customer: Customer, desks: Desks, bot: Bot) -> None:
    await desks.of(bot).from_customer(message, customer)


def shop_bot_router() -> Router:
    """In the shop bot: consulted after its features, before its fallback."""
    router = Router(name="support-shop-customers")
    router.callback_query.register(start_chat, SupportChat.filter())
    router.message.register(shop_customer, F.chat.type == "private", _ticket_open)
    return router
