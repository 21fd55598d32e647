"""GET /sub/<token>: the customer's subscription for VPN apps and browsers, from the database cache.

No panel is called here: provisioning caches every host's link in `panel_clients`, so the endpoint
keeps serving while panels are down. Unknown tokens cost the same single indexed query as known ones.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable, Sequence

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.client_ip import Network, client_ip, parse_networks, rate_key
from api.ratelimit import RateLimiter
from shop.context import AppContext
from shop.metrics.counters import SUB_REQUESTS
from shop.models import utcnow
from shop.storefront.fields import OwnerSettings
from shop.subscription import render_clash, render_links, render_singbox, render_xray
from shop.subscription.content import Entry, Status, entries, reported_expiry, status_of
from shop.subscription.deeplinks import renew_url
from shop.subscription.formats import Format, UnknownFormat, choose_format, singbox_schema
from shop.subscription.headers import ProfileInfo, subscription_headers
from shop.subscription.page import PageFacts, render_not_found, render_page
from shop.subscription.store import StoreUnavailable, SubscriptionReader, SubscriptionRecord
from shop.subscription.texts import pick_language, t

TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")
TEXT = "text/plain; charset=utf-8"
HTML = "text/html; charset=utf-8"
RENDERERS: dict[Format, tuple[Callable[[Sequence[Entry]], str], str]] = {
    Format.BASE64: (render_links.base64_links, TEXT),
    Format.PLAIN: (render_links.plain, TEXT),
    Format.CLASH: (render_clash.render, "text/yaml; charset=utf-8"),
    Format.SINGBOX: (render_singbox.render, "application/json; charset=utf-8"),
    Format.XRAY_JSON: (render_xray.render, "application/json; charset=utf-8"),
}
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    # The URL is the customer's secret: never leak it to the stores the page links to.
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex",
    # Images: the shop's logo (SHOP_LOGO_URL, https or a data: URL).
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src https: data:"
    ),
}
NO_STORE = {"Cache-Control": "no-store"}

log = logging.getLogger(__name__)


def refusal(status: int, reason: str, headers: dict[str, str] | None = None) -> Response:
    return Response(
        reason + "\n", status_code=status, media_type=TEXT, headers={**NO_STORE, **(headers or {})}
    )


def refusal_if_limited(
    request: Request, limiter: RateLimiter, proxies: tuple[Network, ...]
) -> Response | None:
    """429 when the client (an IPv4 address or IPv6 /64) has spent its budget of token lookups."""
    wait = limiter.acquire(rate_key(client_ip(request, proxies)))
    if wait:
        return refusal(429, "too many requests", {"Retry-After": str(math.ceil(wait))})
    return None


def router_for(ctx: AppContext, reader: SubscriptionReader, limiter: RateLimiter) -> APIRouter:
    settings = ctx.settings
    proxies = parse_networks(settings.trusted_proxies)
    base_url = settings.base_url
    router = APIRouter()

    renew = renew_url(settings.sub_renew_url, settings.telegram_bot_username)

    def renew_hint(language: str, owner: OwnerSettings) -> str:
        return renew or owner.support_url or t(language, "renew_where")

    def page(
        request: Request, record: SubscriptionRecord, status: Status, url: str, owner: OwnerSettings
    ) -> Response:
        now = utcnow()
        facts = PageFacts(
            shop=owner.shop_name,
            profile=settings.sub_profile_title or owner.shop_name,
            url=url,
            status=status,
            expire=reported_expiry(record, status, now),
            now=now,
            used_bytes=record.upload + record.download,
            servers=len(record.servers),
            renew_url=renew,
            support_url=owner.support_url,
            logo_url=owner.logo_url,
            user_agent=request.headers.get("user-agent", ""),
        )
        language = pick_language(request.headers.get("accept-language", ""), record.language)
        return Response(render_page(language, facts), media_type=HTML, headers=PAGE_HEADERS)

    async def subscription(request: Request) -> Response:
        token: str = request.path_params["token"]
        limited = refusal_if_limited(request, limiter, proxies)
        if limited is not None:
            return limited
        if not TOKEN.fullmatch(token):
            return refusal(400, "malformed subscription token")
        headers = request.headers
        try:
            wanted = choose_format(
                request.query_params.get("format"),
                headers.get("user-agent", ""),
                headers.get("accept", ""),
                settings.sub_xray_json_for_apps,
            )
        except UnknownFormat:
            return refusal(400, f"unknown format; use one of: {', '.join(f.value for f in Format)}")
        request.state.sub_format = wanted.value
        try:
            record = await reader.find(token)
        except StoreUnavailable as error:
            log.warning("/sub: %s", error)
            return refusal(503, "temporarily unavailable, try again shortly", {"Retry-After": "5"})
        if record is None:
            if wanted is Format.HTML:
                language = pick_language(headers.get("accept-language", ""), "")
                body = render_not_found(language)
                return Response(body, status_code=404, media_type=HTML, headers=PAGE_HEADERS)
            return Response(status_code=404, headers=NO_STORE)
        now = utcnow()
        status = status_of(record, now)
        url = f"{base_url}/sub/{token}"
        owner = await ctx.storefront.current()
        if wanted is Format.HTML:
            return page(request, record, status, url, owner)
        shown = entries(record, status, renew_hint(record.language, owner))
        render, media_type = RENDERERS[wanted]
        if wanted is Format.SINGBOX:
            schema = singbox_schema(headers.get("user-agent", ""))
            no_server = t(record.language, "placeholder_no_singbox_server")
            body = render_singbox.render(shown, schema, no_server)
        else:
            body = render(shown)
        title = settings.sub_profile_title or owner.shop_name
        profile = ProfileInfo(title, settings.sub_update_interval_hours, owner.support_url, url)
        announce = "" if status is Status.ACTIVE else shown[0].name
        expire = reported_expiry(record, status, now)
        response_headers = subscription_headers(profile, record.upload, record.download, expire, announce)
        return Response(body, media_type=media_type, headers=response_headers)

    async def counted(request: Request) -> Response:
        response = await subscription(request)
        SUB_REQUESTS.labels(getattr(request.state, "sub_format", "none"), str(response.status_code)).inc()
        return response

    # A plain Starlette route: FastAPI's parameter machinery would cost more than the lookup itself.
    router.add_route("/sub/{token}", counted, methods=["GET", "HEAD"])
    return router
