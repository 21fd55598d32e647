"""An HTTP client for the API app in-process (ASGI), with a chosen client address."""

from __future__ import annotations

import httpx

from api.app import create_app
from shop.context import AppContext


def api_client(ctx: AppContext, client_ip: str = "198.51.100.7") -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=create_app(ctx), client=(client_ip, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")
