"""/import/<token>/<app>: Telegram buttons open only http(s) links, so one-tap import goes through
this redirect to the app's own scheme (shop/subscription/deeplinks.py); /proxy/<token> likewise
opens the customer's Telegram proxy (`tg://proxy?…`, shop/proxy/access.py).

It answers whether a token exists, so it spends the same per-client budget as /sub."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from api.client_ip import parse_networks
from api.ratelimit import RateLimiter
from api.sub import TOKEN, refusal_if_limited
from shop.context import AppContext
from shop.customers.users import token_exists
from shop.proxy.access import link_for_token
from shop.subscription.deeplinks import IMPORT_LINKS, import_link


def router_for(ctx: AppContext, limiter: RateLimiter) -> APIRouter:
    proxies = parse_networks(ctx.settings.trusted_proxies)
    router = APIRouter()

    @router.get("/import/{token}/{app}", include_in_schema=False)
    async def import_subscription(token: str, app: str, request: Request) -> Response:
        limited = refusal_if_limited(request, limiter, proxies)
        if limited is not None:
            return limited
        if app not in IMPORT_LINKS:
            raise HTTPException(404, f"unknown app {app!r}; known: {', '.join(sorted(IMPORT_LINKS))}")
        # A malformed token is as unknown as a wrong one, and it never reaches the database.
        if not TOKEN.fullmatch(token) or not await token_exists(ctx.sessions, token):
            raise HTTPException(404, "unknown subscription link")
        url = f"{ctx.settings.base_url}/sub/{token}"
        name = (await ctx.storefront.current()).shop_name
        return RedirectResponse(import_link(app, url, name), status_code=302)

    @router.get("/proxy/{token}", include_in_schema=False)
    async def open_proxy(token: str, request: Request) -> Response:
        limited = refusal_if_limited(request, limiter, proxies)
        if limited is not None:
            return limited
        link = await link_for_token(ctx.sessions, token) if TOKEN.fullmatch(token) else None
        if link is None:
            raise HTTPException(404, "no active Telegram proxy for this link")
        return RedirectResponse(link, status_code=302, headers={"Cache-Control": "no-store"})

    return router
