"""Mounting the console on the API: its routers under /console, its stylesheet, and the pages
shown instead of an error when the operator is not signed in or may not do something."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from console.auth import Forbidden, NotFound, NotSignedIn
from console.render import render
from console.routes import (
    audit,
    backups,
    customers,
    home,
    hosts,
    money,
    mtg,
    payments,
    plans,
    promo,
    settings,
    signin,
    support,
    wallet,
)
from shop.context import AppContext
from shop.operators.signin import Signins
from shop.storefront.dashboard import Dashboard

ROUTERS = (
    signin.router,
    home.router,
    support.router,
    customers.router,
    payments.router,
    audit.router,
    plans.router,
    promo.router,
    wallet.router,
    hosts.router,
    mtg.router,
    settings.router,
    money.router,
    backups.router,
)
STATIC = Path(__file__).parent / "static"


async def _not_signed_in(request: Request, _error: Exception) -> Response:
    if request.method == "GET":
        return RedirectResponse("/console/signin", status_code=303)
    return render(request, None, "signin.html", status=401, refusal="signed_out")


async def _forbidden(request: Request, error: Exception) -> Response:
    assert isinstance(error, Forbidden)
    return render(request, error.operator, "forbidden.html", status=403, reason=error.reason)


async def _not_found(request: Request, _error: Exception) -> Response:
    return render(request, None, "not_found.html", status=404)


def mount(app: FastAPI, ctx: AppContext) -> None:
    app.state.console_signins = Signins(ctx.settings, ctx.sessions)
    app.state.dashboard = Dashboard(ctx.sessions, ctx.temporal, ctx.settings.dashboard_cache_seconds)
    for router in ROUTERS:
        app.include_router(router, prefix="/console")
    app.mount("/console/static", StaticFiles(directory=STATIC), name="console-static")
    app.add_exception_handler(NotSignedIn, _not_signed_in)
    app.add_exception_handler(Forbidden, _forbidden)
    app.add_exception_handler(NotFound, _not_found)
