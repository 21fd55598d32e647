"""Backups (owners): make one now, list those in DATA_DIR/backups with their manifests, download
them. Restoring needs the shop stopped, so it is the command line's (`vpnshop restore FILE`)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from console.auth import NotFound, actor, require_role
from console.render import render
from shop.backups import shelf
from shop.backups.manifest import BackupRefused
from shop.context import AppContext
from shop.crypto import KEY_FILE
from shop.operators.roles import Role
from shop.operators.signin import Operator

router = APIRouter()
owner = Depends(require_role(Role.OWNER))


@router.get("/backups", name="backups")
async def backups(request: Request, operator: Operator = owner, error: str = "") -> Response:
    ctx: AppContext = request.app.state.ctx
    settings = ctx.settings
    key = "ENCRYPTION_KEY" if settings.encryption_key is not None else str(settings.data_dir / KEY_FILE)
    return render(
        request,
        operator,
        "backups.html",
        shelved=await shelf.shelved(settings),
        folder=str(shelf.backups_dir(settings)),
        key=key,
        error=error,
    )


@router.post("/backups")
async def back_up(request: Request, operator: Operator = owner) -> Response:
    ctx: AppContext = request.app.state.ctx
    try:
        await shelf.create(ctx.sessions, ctx.settings, actor(operator))
    except BackupRefused as refused:
        return await backups(request, operator, error=str(refused))
    return RedirectResponse("/console/backups?done=done_backup", status_code=303)


@router.get("/backups/file/{name}")
async def download(request: Request, name: str, operator: Operator = owner) -> Response:
    ctx: AppContext = request.app.state.ctx
    path = await shelf.find(ctx.settings, name)
    if path is None:
        raise NotFound()
    return FileResponse(path, filename=name, headers={"Cache-Control": "no-store"})
