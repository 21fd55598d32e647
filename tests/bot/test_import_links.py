"""/import/<token>/<app>: the https hop that lets a Telegram button open a VPN app's import link."""

from __future__ import annotations

import httpx

from api.app import create_app
from tests.conftest import Database, make_context
from tests.factories import subscriber


async def test_import_redirects_to_the_app_scheme(sqlite_db: Database, task_queue: str) -> None:
    ctx = make_context(sqlite_db, None, task_queue, public_base_url="https://vpn.example")
    token = (await subscriber(ctx.sessions, 61, "Ola")).token
    transport = httpx.ASGITransport(app=create_app(ctx))
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
        happ = await client.get(f"/import/{token}/happ")
        v2rayng = await client.get(f"/import/{token}/v2rayng")
        unknown_app = await client.get(f"/import/{token}/netscape")
        unknown_token = await client.get("/import/not-a-token/happ")
    assert (happ.status_code, happ.headers["location"]) == (
        302,
        f"happ://add/https://vpn.example/sub/{token}",
    )
    assert v2rayng.headers["location"] == (
        f"v2rayng://install-sub?url=https%3A%2F%2Fvpn.example%2Fsub%2F{token}&name=vpnshop"
    )
    assert (unknown_app.status_code, unknown_token.status_code) == (404, 404)
    assert "unknown app" in unknown_app.json()["detail"]
