"""Telegram webhook (BOT_MODE=webhook): the secret token is checked, and the update is handled before
the answer, so a 2xx means handled: an error answers 500 and Telegram delivers the update again
(a `successful_payment` is never acknowledged unhandled)."""

from __future__ import annotations

import hmac
import logging

from aiogram import Bot, Dispatcher
from aiogram.types import Update
from fastapi import APIRouter, Request, Response
from pydantic import ValidationError

from api.payloads import parse_object
from bot.main import WEBHOOK_PATH, build_bot, build_dispatcher
from shop.context import AppContext

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
TEXT = "text/plain; charset=utf-8"


def telegram_webhook(
    ctx: AppContext, dispatcher: Dispatcher | None = None, bot: Bot | None = None
) -> APIRouter:
    """The webhook route; a `bot` passed in stays the caller's to close."""
    secret = ctx.settings.telegram_webhook_secret
    if secret is None:
        raise RuntimeError("BOT_MODE=webhook needs TELEGRAM_WEBHOOK_SECRET")
    bot = bot or build_bot(ctx.settings)
    dispatcher = dispatcher or build_dispatcher(ctx)
    router = APIRouter()

    @router.post(WEBHOOK_PATH, include_in_schema=False)
    async def receive(request: Request) -> Response:
        # Bytes, not str: compare_digest refuses non-ASCII text, and a header may carry anything.
        given = request.headers.get(SECRET_HEADER, "").encode("utf-8", "replace")
        if not hmac.compare_digest(given, secret.get_secret_value().encode()):
            return Response("wrong secret token", status_code=403, media_type=TEXT)
        body = parse_object(await request.body())
        try:
            update = Update.model_validate(body, context={"bot": bot})
        except ValidationError:
            return Response("not an update", status_code=400, media_type=TEXT)
        try:
            await dispatcher.feed_update(bot, update)
        except Exception:
            log.exception("update %s failed; Telegram will deliver it again", update.update_id)
            return Response("not handled", status_code=500, media_type=TEXT)
        return Response(status_code=200, media_type=TEXT)

    return router
