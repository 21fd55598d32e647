"""The bot process: aiogram Dispatcher with one router per feature; long polling by default, or a
webhook served by the API (api/telegram.py) that acknowledges an update only after handling it."""

from __future__ import annotations

import asyncio
import logging

from aiogram import Bot, Dispatcher, Router
from aiogram.client.default import DefaultBotProperties
from aiogram.client.telegram import PRODUCTION, TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.types import BotCommand
from pydantic import SecretStr

from bot.middleware import CustomerGate
from bot.routers import (
    admin,
    broadcast,
    buy,
    console,
    fallback,
    help,
    language,
    menu,
    payments,
    promo,
    proxy,
    referral,
    start,
    subscription,
    trial,
    wallet,
    withdrawals,
)
from bot.session import BotSession
from bot.support.routers import Desks, group_router, resume, shop_bot_router
from bot.texts import CATALOGUES, DEFAULT_LANGUAGE, t
from shop.context import AppContext
from shop.customers.admin import AccessSync
from shop.messaging.broadcast_control import BroadcastControl
from shop.payments.checkout import Checkout
from shop.settings import Settings

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/telegram/webhook"
COMMANDS = ("start", "menu", "subscription", "buy", "balance", "promo", "gift", "help", "support")


def build_bot(settings: Settings, token: SecretStr | None = None) -> Bot:
    """The shop bot, or with `token` another bot (the support desk's) on the same Bot API server."""
    token = token or settings.telegram_bot_token
    if token is None:
        raise RuntimeError("TELEGRAM_BOT_TOKEN is not set")
    url = settings.telegram_api_url
    api = TelegramAPIServer.from_base(url) if url else PRODUCTION
    return Bot(
        token.get_secret_value(),
        session=BotSession(api=api),
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )


def build_dispatcher(ctx: AppContext, extra_routers: tuple[Router, ...] = ()) -> Dispatcher:
    """The shop's bot with its real checkout, panel sync and broadcasts; `extra_routers` are
    consulted before the shop's own routers (a handler that must see an update first)."""
    dispatcher = Dispatcher(
        ctx=ctx,
        checkout=Checkout(ctx),
        access_sync=AccessSync(ctx),
        broadcasting=BroadcastControl(ctx),
        desks=Desks(ctx),
    )
    gate = CustomerGate()
    dispatcher.message.outer_middleware(gate)
    dispatcher.callback_query.outer_middleware(gate)
    desk = ctx.settings.shop_bot_is_desk
    if desk:
        dispatcher.include_router(group_router())
    for extra in extra_routers:
        dispatcher.include_router(extra)
    # The referral router first: it takes the messages of a customer typing payout details.
    features = (
        referral, promo, start, menu, buy, proxy, wallet, trial, subscription, help, language,
        console, admin, broadcast, withdrawals, payments,
    )  # fmt: skip
    for router in features:
        dispatcher.include_router(router.build())
    if desk:
        dispatcher.include_router(shop_bot_router())  # free messages of an open ticket, not "not understood"
    dispatcher.include_router(fallback.build())
    return dispatcher


async def publish_commands(bot: Bot) -> None:
    for lang in CATALOGUES:
        commands = [BotCommand(command=name, description=t(lang, f"cmd_{name}")) for name in COMMANDS]
        await bot.set_my_commands(commands, language_code=None if lang == DEFAULT_LANGUAGE else lang)


async def run_bot(ctx: AppContext, stop: asyncio.Event) -> None:
    bot = build_bot(ctx.settings)
    dispatcher = build_dispatcher(ctx)
    await publish_commands(bot)
    if ctx.settings.bot_mode == "webhook":
        await serve_webhook_mode(bot, dispatcher, ctx.settings, stop)
        return
    await bot.delete_webhook()  # getUpdates is refused while a webhook from an earlier run is set
    if ctx.settings.shop_bot_is_desk:
        await resume(dispatcher, bot)
    polling = asyncio.create_task(dispatcher.start_polling(bot, handle_signals=False, close_bot_session=True))
    stopped = asyncio.create_task(stop.wait())
    await asyncio.wait({polling, stopped}, return_when=asyncio.FIRST_COMPLETED)
    if not polling.done():
        await dispatcher.stop_polling()
    await polling
    log.info("bot stopped")


async def serve_webhook_mode(
    bot: Bot, dispatcher: Dispatcher, settings: Settings, stop: asyncio.Event
) -> None:
    """Registers the API's webhook with Telegram; the API process handles the updates."""
    if settings.telegram_webhook_secret is None:
        raise RuntimeError("BOT_MODE=webhook needs TELEGRAM_WEBHOOK_SECRET")
    await bot.set_webhook(
        settings.base_url + WEBHOOK_PATH,
        secret_token=settings.telegram_webhook_secret.get_secret_value(),
        allowed_updates=dispatcher.resolve_used_update_types(),
    )
    log.info("bot webhook set to %s%s", settings.base_url, WEBHOOK_PATH)
    try:
        await stop.wait()
    finally:
        await bot.session.close()
