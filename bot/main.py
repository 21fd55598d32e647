"""The bot process: aiogram Dispatcher with one router per feature, long polling by default."""

from __future__ import annotations

import asyncio
import logging

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.enums import ParseMode

from bot.routers import payments, start
from shop.context import AppContext
from shop.settings import Settings

log = logging.getLogger(__name__)


def build_bot(settings: Settings) -> Bot:
    if settings.telegram_bot_token is None:
        raise RuntimeError("TELEGRAM_BOT_TOKEN is not set")
    session = None
    if settings.telegram_api_url:
        session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_url))
    return Bot(
        settings.telegram_bot_token.get_secret_value(),
        session=session,
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )


def build_dispatcher(ctx: AppContext) -> Dispatcher:
    dispatcher = Dispatcher(ctx=ctx)
    dispatcher.include_router(start.router)
    dispatcher.include_router(payments.build_router())
    return dispatcher


async def run_bot(ctx: AppContext, stop: asyncio.Event) -> None:
    bot = build_bot(ctx.settings)
    dispatcher = build_dispatcher(ctx)
    polling = asyncio.create_task(dispatcher.start_polling(bot, handle_signals=False, close_bot_session=True))
    stopped = asyncio.create_task(stop.wait())
    await asyncio.wait({polling, stopped}, return_when=asyncio.FIRST_COMPLETED)
    if not polling.done():
        await dispatcher.stop_polling()
    await polling
    log.info("bot stopped")
