"""The FastAPI application: health, payment webhooks, /sub/<token>, admin."""

from __future__ import annotations

from fastapi import FastAPI

from api import health, webhooks
from shop.context import AppContext


def create_app(ctx: AppContext) -> FastAPI:
    app = FastAPI(title="vpnshop", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.ctx = ctx
    app.include_router(health.router)
    app.include_router(webhooks.router)
    return app
