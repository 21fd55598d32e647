"""Settings: the owner's day-to-day settings (shop/storefront), one form per group, each field with
where its value comes from and a reset to the environment's value. Owners only; every change is
audited by the storefront. The bot, API and worker see a change within SETTINGS_CACHE_SECONDS."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from console.auth import actor, require_role
from console.render import render
from console.texts import CATALOGUES
from shop.operators.roles import Role
from shop.operators.signin import Operator
from shop.storefront.fields import GROUPS, LANGUAGES, TEXT_KEYS, TEXT_NAMES, OwnerSettings
from shop.storefront.store import TEXTS, SettingsInvalid, SettingView, Storefront

router = APIRouter()
owner = Depends(require_role(Role.OWNER))
BOOLEANS = {name for name, info in OwnerSettings.model_fields.items() if info.annotation is bool}
FORMS = {**GROUPS, TEXTS: TEXT_KEYS}
HINTED = {
    key[len("setting_") : -len("_hint")]
    for key in CATALOGUES["en"]
    if key.startswith("setting_") and key.endswith("_hint")
}


def _storefront(request: Request) -> Storefront:
    return request.app.state.ctx.storefront


def _shown(view: SettingView) -> str:
    if view.name in BOOLEANS:
        return "on" if view.value else ""
    return "" if view.value is None else f"{view.value}"


async def _page(
    request: Request, operator: Operator, status: int = 200, submitted: dict[str, str] | None = None,
    group: str = "", errors: dict[str, str] | None = None, details: dict[str, str] | None = None,
) -> Response:  # fmt: skip
    views = await _storefront(request).describe()
    values = {view.name: _shown(view) for view in views}
    if submitted is not None:  # the refused form shows what was typed, the others what is stored
        values |= submitted
    return render(
        request,
        operator,
        "settings.html",
        status=status,
        views={view.name: view for view in views},
        groups=FORMS,
        booleans=BOOLEANS,
        text_names=TEXT_NAMES,
        text_keys=set(TEXT_KEYS),
        hinted=HINTED,
        languages=LANGUAGES,
        values=values,
        group=group,
        errors=errors or {},
        details=details or {},
        cache_seconds=request.app.state.ctx.settings.settings_cache_seconds,
    )


@router.get("/settings")
async def settings_page(request: Request, operator: Operator = owner) -> Response:
    return await _page(request, operator)


@router.post("/settings/reset")
async def reset_setting(request: Request, operator: Operator = owner) -> Response:
    name = str((await request.form()).get("name", ""))
    try:
        await _storefront(request).reset([name], actor(operator))
    except SettingsInvalid as invalid:
        return await _page(request, operator, 422, errors=invalid.fields, details=invalid.errors)
    return RedirectResponse("/console/settings?done=done_settings_reset", status_code=303)


@router.post("/settings/{group}")
async def save_group(request: Request, group: str, operator: Operator = owner) -> Response:
    if group not in FORMS:
        return render(request, operator, "not_found.html", status=404)
    form = await request.form()
    submitted: dict[str, str] = {}
    changes: dict[str, Any] = {}
    for name in FORMS[group]:
        raw = form.get(name)
        text = raw.strip() if isinstance(raw, str) else ""
        submitted[name] = text
        # An unticked box sends nothing: that is "off".
        changes[name] = bool(text) if name in BOOLEANS else text
    try:
        done = await _storefront(request).update(changes, actor(operator))
    except SettingsInvalid as invalid:
        return await _page(request, operator, 422, submitted, group, invalid.fields, invalid.errors)
    key = "done_settings_saved" if done else "done_nothing_changed"
    return RedirectResponse(f"/console/settings?done={key}#{group}", status_code=303)
