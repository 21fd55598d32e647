"""/import/<token>/<app>: Telegram buttons open only http(s) links, so one-tap import goes through
this redirect to the app's own scheme (shop/subscription/deeplinks.py)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse

from shop.context import AppContext
from shop.customers.users import token_exists
from shop.subscription.deeplinks import IMPORT_LINKS, import_link

router = APIRouter()


@router.get("/import/{token}/{app}", include_in_schema=False)
async def import_subscription(token: str, app: str, request: Request) -> RedirectResponse:
    ctx: AppContext = request.app.state.ctx
    if app not in IMPORT_LINKS:
        raise HTTPException(404, f"unknown app {app!r}; known: {', '.join(sorted(IMPORT_LINKS))}")
    if not await token_exists(ctx.sessions, token):
        raise HTTPException(404, "unknown subscription link")
    url = f"{ctx.settings.base_url}/sub/{token}"
    name = (await ctx.storefront.current()).shop_name
    return RedirectResponse(import_link(app, url, name), status_code=302)
