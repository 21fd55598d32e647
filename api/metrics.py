"""`/metrics` in the Prometheus text format, for a scraper holding METRICS_TOKEN.

Unset token: 404, as if there were no such page (nothing about the shop is exposed by accident).
Set: `Authorization: Bearer <token>` or 401 with a `WWW-Authenticate: Bearer` challenge.
"""

from __future__ import annotations

import hmac

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import PlainTextResponse, Response

from shop.context import AppContext
from shop.metrics.counters import worker_counters
from shop.metrics.exposition import CONTENT_TYPE, exposition

router = APIRouter()


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    ctx: AppContext = request.app.state.ctx
    token = ctx.settings.metrics_token.get_secret_value() if ctx.settings.metrics_token else ""
    if not token:  # unset or empty: an empty token must never match an empty "Bearer "
        return PlainTextResponse("not found\n", status_code=404)
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
        return PlainTextResponse(
            "a bearer token is required (METRICS_TOKEN)\n",
            status_code=401,
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )
    body = await exposition(ctx.sessions, worker_counters(ctx.settings.data_dir))
    return Response(body, media_type=CONTENT_TYPE, headers={"Cache-Control": "no-store"})


def metrics_app(ctx: AppContext) -> FastAPI:
    """`/metrics` alone, for a process without the API (`vpnshop worker` on its own): its counters
    and the records, behind the same token."""
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    app.state.ctx = ctx
    app.include_router(router)
    return app
