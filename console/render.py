"""Pages: the Jinja2 environment, the navigation, and the headers every console answer carries."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

from console.auth import CSRF_FIELD, LANG_COOKIE
from console.texts import CATALOGUES, language, t
from shop.operators.roles import Role, allows
from shop.operators.signin import Operator

TEMPLATES = Path(__file__).parent / "templates"
# (path under /console, text key, the role that may open it)
NAV: list[tuple[str, str, Role]] = [
    ("/console/", "nav_home", Role.SUPPORT),
    ("/console/customers", "nav_customers", Role.SUPPORT),
    ("/console/payments", "nav_payments", Role.SUPPORT),
    ("/console/support", "nav_support", Role.SUPPORT),
    ("/console/plans", "nav_plans", Role.OWNER),
    ("/console/promo", "nav_promo", Role.OWNER),
    ("/console/balance", "nav_balance", Role.OWNER),
    ("/console/hosts", "nav_hosts", Role.OWNER),
    ("/console/mtg", "nav_mtg", Role.OWNER),
    ("/console/money", "nav_money", Role.OWNER),
    ("/console/settings", "nav_settings", Role.OWNER),
    ("/console/backups", "nav_backups", Role.OWNER),
    ("/console/audit", "nav_audit", Role.OWNER),
]
HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": (
        "default-src 'self'; style-src 'self'; img-src 'self' data:; script-src 'none'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
}

environment = Environment(
    loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]), trim_blocks=True
)


def request_language(request: Request) -> str:
    """The switch's choice (or the operator's Telegram language, set at sign-in); before that the
    browser's first language when it is one we speak."""
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen:
        return language(chosen)
    first = request.headers.get("accept-language", "").split(",")[0].strip().lower()
    return language(first[:2])


def render(
    request: Request, operator: Operator | None, template: str, status: int = 200, **values: Any
) -> HTMLResponse:
    lang = request_language(request)
    errors: dict[str, str] = values.get("errors") or {}

    def text(key: str, **fields: object) -> str:
        return t(lang, key, **fields)

    def csrf_field() -> Markup:
        token = operator.csrf_token if operator else ""
        return Markup(f'<input type="hidden" name="{CSRF_FIELD}" value="{escape(token)}">')

    def field_error(name: str) -> Markup:
        code = errors.get(name)
        if not code:
            return Markup("")
        return Markup(f'<p class="field-error" id="{escape(name)}-error">{escape(text("error_" + code))}</p>')

    nav = [
        (
            path,
            text(key),
            request.url.path == path or (path != "/console/" and request.url.path.startswith(path)),
        )
        for path, key, role in NAV
        if operator is not None and allows(operator.role, role)
    ]
    done = request.query_params.get("done", "")
    body = environment.get_template(template).render(
        t=text,
        lang=lang,
        operator=operator,
        nav=nav,
        csrf_field=csrf_field,
        field_error=field_error,
        flash=text(done) if done.startswith("done_") and done in CATALOGUES[lang] else "",
        path=request.url.path,
        **values,
    )
    return HTMLResponse(body, status_code=status, headers=HEADERS)
