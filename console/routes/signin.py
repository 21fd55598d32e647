"""Signing in with a one-time link from the bot, signing out, and the language switch.

The link's GET only shows a "Sign in" button; the POST spends the link. Telegram (and other
previewers) fetch links to draw previews, and must not use up the operator's link doing so.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from console.auth import COOKIE, LANG_COOKIE, require_role, signins
from console.render import render
from console.texts import CATALOGUES
from shop.customers.users import get_customer
from shop.operators.roles import Role
from shop.operators.signin import SESSION_LIFETIME, Operator, SigninRefused

router = APIRouter()


def _secure(request: Request) -> bool:
    return bool(request.app.state.ctx.settings.base_url.startswith("https://"))


@router.get("/signin")
async def signin_help(request: Request) -> Response:
    return render(request, None, "signin.html")


@router.get("/signin/{token}")
async def signin_page(request: Request, token: str) -> Response:
    return render(request, None, "signin.html", token=token)


@router.post("/signin/{token}")
async def signin(request: Request, token: str) -> Response:
    try:
        cookie = await signins(request).redeem(token)
    except SigninRefused as refused:
        return render(request, None, "signin.html", status=403, refusal=refused.reason.value)
    operator_id = int(token.split(".", 1)[0])
    known = await get_customer(request.app.state.ctx.sessions, operator_id)
    response = RedirectResponse("/console/", status_code=303)
    response.set_cookie(
        COOKIE,
        cookie,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        path="/console",
        httponly=True,
        samesite="lax",
        secure=_secure(request),
    )
    if known is not None and LANG_COOKIE not in request.cookies:
        response.set_cookie(LANG_COOKIE, known.language, path="/console", samesite="lax")
    return response


@router.post("/signout")
async def signout(request: Request, operator: Operator = Depends(require_role(Role.SUPPORT))) -> Response:
    await signins(request).sign_out(operator)
    response = RedirectResponse("/console/signin", status_code=303)
    response.delete_cookie(COOKIE, path="/console")
    return response


@router.get("/lang/{lang}")
async def switch_language(request: Request, lang: str, back: str = "/console/") -> Response:
    # Only a path inside the console: the switch must not become an open redirect.
    target = back if back.startswith("/console/") and "//" not in back and "\\" not in back else "/console/"
    response = RedirectResponse(target, status_code=303)
    if lang in CATALOGUES:
        response.set_cookie(LANG_COOKIE, lang, path="/console", samesite="lax", max_age=365 * 86400)
    return response
