"""The audit log: every operator action, newest first, in pages."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from console.auth import require_role
from console.render import render
from shop.operators import audit
from shop.operators.roles import Role
from shop.operators.signin import Operator

router = APIRouter()
PAGE = 50
# What an entry is about: the first word of its action (plan.create -> plan).
AREAS = ("plan", "host", "customer", "payment", "withdrawal", "broadcast", "backup")


@router.get("/audit")
async def audit_log(
    request: Request, page: int = 1, area: str = "", operator: Operator = Depends(require_role(Role.OWNER))
) -> Response:
    page = max(page, 1)
    area = area if area in AREAS else ""
    prefix = f"{area}." if area else ""
    rows, total = await audit.entries(request.app.state.ctx.sessions, PAGE, (page - 1) * PAGE, prefix)
    pages = max((total + PAGE - 1) // PAGE, 1)
    return render(
        request,
        operator,
        "audit.html",
        rows=rows,
        page=page,
        pages=pages,
        total=total,
        area=area,
        areas=AREAS,
    )
