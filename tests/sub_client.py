"""An HTTP client for the API app in-process (ASGI), with a chosen client address."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import httpx
from fastapi import FastAPI

from api.app import create_app
from shop.context import AppContext


@contextlib.asynccontextmanager
async def app_client(app: FastAPI, client_ip: str = "198.51.100.7") -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=(client_ip, 40000))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client
    finally:
        await app.state.subscriptions.close()  # ASGITransport runs no lifespan


def api_client(
    ctx: AppContext, client_ip: str = "198.51.100.7"
) -> contextlib.AbstractAsyncContextManager[httpx.AsyncClient]:
    return app_client(create_app(ctx), client_ip)
