"""The FastAPI application: health, payment webhooks, /sub/<token>, admin."""

from __future__ import annotations

from fastapi import FastAPI

from api import health, import_links
from shop.context import AppContext


def create_app(ctx: AppContext) -> FastAPI:
    app = FastAPI(title="vpnshop", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.ctx = ctx
    app.include_router(health.router)
    app.include_router(import_links.router)
    if ctx.settings.bot_mode == "webhook" and ctx.settings.telegram_bot_token is not None:
        from api.telegram import telegram_webhook

        app.include_router(telegram_webhook(ctx))
    return app
