"""The FastAPI application: health, payment webhooks, /sub/<token>, the operator console."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api import health, import_links, metrics, sub, webhooks
from api.guard import Guard, GuardLimits
from api.ratelimit import RateLimiter
from console.app import mount as mount_console
from shop.context import AppContext
from shop.payments.hint_lookup import HintLookup
from shop.subscription.store import reader_for


def create_app(ctx: AppContext, limits: GuardLimits | None = None) -> FastAPI:
    subscriptions = reader_for(ctx.engine)
    hints = HintLookup(ctx.settings.db_url)
    closers: list[Callable[[], Awaitable[None]]] = [subscriptions.close, hints.close]

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        for close in closers:
            await close()

    app = FastAPI(title="vpnshop", docs_url=None, redoc_url=None, openapi_url=None, lifespan=lifespan)
    app.state.ctx = ctx
    app.state.subscriptions = subscriptions
    app.state.hints = hints
    app.include_router(health.router)
    app.include_router(metrics.router)
    # /sub and /import both tell whether a token exists: one budget per client for both.
    limiter = RateLimiter(ctx.settings.sub_rate_limit_per_minute, ctx.settings.sub_rate_limit_burst)
    app.include_router(sub.router_for(ctx, subscriptions, limiter))
    app.include_router(import_links.router_for(ctx, limiter))
    if ctx.settings.bot_mode == "webhook" and ctx.settings.telegram_bot_token is not None:
        from api.telegram import telegram_webhook
        from bot.main import build_bot

        bot = build_bot(ctx.settings)
        closers.append(bot.session.close)
        app.include_router(telegram_webhook(ctx, bot=bot))
    app.include_router(webhooks.router)
    mount_console(app, ctx)
    app.add_middleware(Guard, limits=limits)
    return app
