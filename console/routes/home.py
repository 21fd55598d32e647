"""The console's first page. The dashboard's figures land here (issue 16, part "Dashboard")."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from console.auth import require_role
from console.render import render
from shop.operators.roles import Role
from shop.operators.signin import Operator

router = APIRouter()


@router.get("/")
async def home(request: Request, operator: Operator = Depends(require_role(Role.SUPPORT))) -> Response:
    return render(request, operator, "home.html")
