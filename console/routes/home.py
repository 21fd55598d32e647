"""The console's first page: the dashboard (shop/storefront/dashboard.py). Every figure links to
the list behind it once that list exists in the console (customers and payments come with part 2);
the Schedules link to their page in the Temporal UI."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.routing import NoMatchFound

from console.auth import require_role
from console.charts import bars
from console.render import render
from shop.context import AppContext
from shop.metrics.counters import (
    PANEL_ERRORS,
    SUB_REQUESTS,
    WEBHOOKS,
    ShopCounters,
    summed_by,
    worker_counters,
)
from shop.operators.roles import Role, allows
from shop.operators.signin import Operator
from shop.storefront.dashboard import Dashboard

router = APIRouter()

# The list behind each figure: (the console route's name, its query, who may open it). A figure is
# a link for an operator who may open it, once the
# console has that route: the customer and payment lists (routes `customers`, `payments`) come
# with part 2 of issue 16, and light up here without a change.
LISTS = {
    "revenue": ("payments", "status=paid", Role.SUPPORT),
    "paid_active": ("customers", "state=paid", Role.SUPPORT),
    "trial_active": ("customers", "state=trial", Role.SUPPORT),
    "new_customers": ("customers", "sort=newest", Role.SUPPORT),
    "conversion": ("customers", "state=trial_used", Role.SUPPORT),
    "renewals_due": ("customers", "renewal_within_days=7", Role.SUPPORT),
    "to_review": ("payments", "status=review", Role.SUPPORT),
    "p2p_waiting": ("payments", "status=p2p_waiting", Role.SUPPORT),
    "paid_not_delivered": ("payments", "status=succeeded", Role.SUPPORT),
    "hosts": ("hosts", "", Role.OWNER),
}
CHARTS = ("revenue:RUB", "revenue:XTR", "payments", "customers")


def _links(request: Request, operator: Operator) -> dict[str, str]:
    links = {}
    for key, (name, query, role) in LISTS.items():
        if not allows(operator.role, role):
            continue
        try:
            path = request.app.url_path_for(name)
        except NoMatchFound:
            continue
        links[key] = f"{path}?{query}" if query else str(path)
    return links


@router.get("/")
async def home(request: Request, operator: Operator = Depends(require_role(Role.SUPPORT))) -> Response:
    ctx: AppContext = request.app.state.ctx
    dashboard: Dashboard = request.app.state.dashboard
    # The counters as /metrics shows them, read once: this process's (webhooks and /sub are the
    # API's own) and those of `up`'s worker processes (the panels' errors are mostly theirs).
    counters = list(ShopCounters(worker_counters(ctx.settings.data_dir)).collect())
    shown, runs = await dashboard.current(fresh=request.query_params.get("fresh") == "1")
    charts = [
        (name, bars(shown.series_days, shown.series[name], name)) for name in CHARTS if name in shown.series
    ]
    web = f"{ctx.settings.temporal_web}/namespaces/{quote(ctx.settings.temporal_namespace)}/schedules/"
    return render(
        request,
        operator,
        "home.html",
        figures=shown,
        runs=runs,
        charts=charts,
        links=_links(request, operator),
        schedule_web=web,
        webhooks=summed_by(counters, WEBHOOKS, "outcome"),
        panel_errors=summed_by(counters, PANEL_ERRORS, "host"),
        sub_requests=summed_by(counters, SUB_REQUESTS, "status"),
    )
