"""The operator console: server-rendered pages under /console, mounted by the API (`console.app`).

Plain HTML forms, no JavaScript build step, no CDN; one stylesheet in `static/`.

How to add a page
-----------------
1. **Route module** in `console/routes/<area>.py` holding `router = APIRouter()`; add it to
   `ROUTERS` in `console/app.py`. Paths are relative to /console (`@router.get("/plans")`).
2. **Who may open it**: every route takes `operator: Operator = Depends(require_role(Role.OWNER))`
   (or `Role.SUPPORT` for pages support may use too). Without a valid session the operator is sent
   to the sign-in page; with the wrong role they get 403. For POST the same dependency checks the
   CSRF token, so a state-changing route needs nothing more.
3. **Template** in `console/templates/<area>.html`: `{% extends "base.html" %}`, fill
   `{% block content %}`; render with `render(request, operator, "<area>.html", **values)`
   (`console/render.py`). Templates get `t(key, **values)`, `operator`, `csrf`, `lang`, `nav`.
4. **Forms**: every `<form method="post">` starts with `{{ csrf_field() }}`. Inline validation:
   the domain service raises `shop.operators.forms.Invalid({field: code})`; render the form again
   with status 422 and `errors=error.fields`; `{{ field_error("name") }}` shows the message for
   code `error_<code>` beside the field. Nothing is changed when the input is refused.
5. **Texts** a person reads live in `console/texts/en.py` and `ru.py` (same keys; a test checks).
6. **Audit**: state changes go through a domain service in `shop/` that takes an
   `Actor(operator.id, "console")` (`actor(operator)` here) and writes `shop.operators.audit.record`
   in the transaction of the change. Routes never touch the ORM.
7. **Nav**: add `(path, text key, role)` to `NAV` in `console/render.py`.

After a successful POST, redirect (303) to a GET page, optionally with `?done=done_<...>` (a text
key starting with `done_`) for the flash line. Raise `console.auth.NotFound` for an unknown id: the
404 page is rendered for you. Routes get the process's `AppContext` as `request.app.state.ctx`.

Languages: the `vpnshop_console_lang` cookie (set from the operator's Telegram language at sign-in,
changed by the RU/EN switch), else the browser's Accept-Language, else Russian.
"""
