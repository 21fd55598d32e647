"""Console test helpers: a shop with one owner and one support operator, and an HTTP client signed
in through a one-time link, the way an operator signs in."""

from __future__ import annotations

import re

import httpx

from shop.context import AppContext
from shop.operators.signin import Signins
from tests.conftest import Database, make_context

OWNER = 5001
SUPPORT = 5002
STRANGER = 5003


def console_context(db: Database, **settings: object) -> AppContext:
    values: dict[str, object] = {"admin_ids": str(OWNER), "console_support_ids": str(SUPPORT)}
    values.update(settings)
    return make_context(db, None, "console-test", **values)


def link_token(ctx: AppContext, operator_id: int) -> str:
    return Signins(ctx.settings, ctx.sessions).link(operator_id).rsplit("/", 1)[1]


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF field on the page"
    return found.group(1)


async def sign_in(client: httpx.AsyncClient, ctx: AppContext, operator_id: int) -> str:
    """Signs the client in and returns the session's CSRF token."""
    answer = await client.post(f"/console/signin/{link_token(ctx, operator_id)}")
    assert answer.status_code == 303, answer.text
    home = await client.get("/console/")
    assert home.status_code == 200
    return csrf_of(home.text)
