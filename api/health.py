"""GET /healthz: is the database reachable, is Temporal reachable."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from shop.context import AppContext

router = APIRouter()
CHECK_TIMEOUT = 2.0


async def _database(ctx: AppContext) -> str | None:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT), ctx.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception as error:
        return f"database unreachable: {type(error).__name__}: {error}"[:300]
    return None


async def _temporal(ctx: AppContext) -> str | None:
    if ctx.temporal is None:
        return "temporal not connected"
    try:
        async with asyncio.timeout(CHECK_TIMEOUT):
            await ctx.temporal.service_client.check_health()
    except Exception as error:
        return f"temporal unreachable: {type(error).__name__}: {error}"[:300]
    return None


@router.get("/healthz")
async def healthz(request: Request) -> JSONResponse:
    ctx: AppContext = request.app.state.ctx
    database, temporal = await asyncio.gather(_database(ctx), _temporal(ctx))
    body: dict[str, Any] = {
        "status": "ok" if not (database or temporal) else "unavailable",
        "database": database or "ok",
        "temporal": temporal or "ok",
    }
    return JSONResponse(body, status_code=200 if body["status"] == "ok" else 503)
