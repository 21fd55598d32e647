"""The support desk's own bot (SUPPORT_BOT_TOKEN): customers write to it, operators answer in the
forum topics of SUPPORT_CHAT_ID. Without that token the shop bot is the desk (bot/main.py)."""

from __future__ import annotations

import asyncio
import logging

from aiogram import Dispatcher

from bot.main import build_bot
from bot.support.routers import Desks, group_router, own_bot_router, resume
from shop.context import AppContext
from shop.customers.admin import AccessSync

log = logging.getLogger(__name__)


def build_support_dispatcher(ctx: AppContext) -> Dispatcher:
    dispatcher = Dispatcher(ctx=ctx, desks=Desks(ctx), access_sync=AccessSync(ctx))
    dispatcher.include_router(group_router())
    dispatcher.include_router(own_bot_router())
    return dispatcher


async def run_support(ctx: AppContext, stop: asyncio.Event) -> None:
    settings = ctx.settings
    if settings.support_chat_id is None or settings.support_bot_token is None:
        where = "in the shop bot" if settings.support_chat_id is not None else "off (set SUPPORT_CHAT_ID)"
        log.info("support bot not started: the desk is %s", where)
        return
    bot = build_bot(settings, settings.support_bot_token)
    dispatcher = build_support_dispatcher(ctx)
    await bot.delete_webhook()
    await resume(dispatcher, bot)
    # One update at a time, confirmed to Telegram only once handled: a restart redelivers what was
    # not handled, and the journal's idempotency key drops what was.
    polling = asyncio.create_task(
        dispatcher.start_polling(bot, handle_signals=False, close_bot_session=True, handle_as_tasks=False)
    )
    stopped = asyncio.create_task(stop.wait())
    await asyncio.wait({polling, stopped}, return_when=asyncio.FIRST_COMPLETED)
    if not polling.done():
        await dispatcher.stop_polling()
    await polling
    log.info("support bot stopped")
