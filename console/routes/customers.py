"""Customers: the searchable list and a customer's page with its actions (support and owners).

Each action form carries an action id minted when the page was drawn and asks for a reason; the
services in `shop.customers.operations` do each action once per id and audit it with the reason.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from console.auth import NotFound, actor, require_role
from console.render import render
from shop.access.diagnose import diagnose
from shop.balance import ledger
from shop.context import AppContext
from shop.customers import directory
from shop.customers.operations import UNITS, CustomerDesk
from shop.customers.profile import profile
from shop.db import SessionFactory
from shop.gifts import store as gifts
from shop.models import utcnow
from shop.operators.actions import new_action_id
from shop.operators.forms import Invalid
from shop.operators.roles import Role
from shop.operators.signin import Operator
from shop.promo.catalogue import PromoCatalogue
from shop.proxy.access import proxy_access, proxy_copy, proxy_on_sale

router = APIRouter()
support = Depends(require_role(Role.SUPPORT))
STATES = [state.value for state in directory.State if state.value]
BALANCE_ENTRIES = 10  # the page shows the newest few; the balance page has the rest


def _ctx(request: Request) -> AppContext:
    ctx: AppContext = request.app.state.ctx
    return ctx


def _filters(request: Request) -> directory.Filters:
    query = request.query_params
    state = query.get("state", "")
    referrer = query.get("referrer", "").strip()
    within = query.get("renewal_within_days", "").strip()
    return directory.Filters(
        q=query.get("q", "")[:200],
        state=directory.State(state) if state in STATES else directory.State.ANY,
        referrer=int(referrer) if referrer.lstrip("-").isdigit() else None,
        renewal_within_days=int(within) if within.isdigit() else None,
    )


@router.get("/customers", name="customers")
async def customers(request: Request, operator: Operator = support) -> Response:
    filters = _filters(request)
    after = request.query_params.get("after", "")
    page = await directory.customers(_ctx(request).sessions, filters, after)
    base = {k: v for k, v in request.query_params.items() if k != "after" and v}
    return render(
        request,
        operator,
        "customers.html",
        page=page,
        filters=filters,
        states=STATES,
        query=base,
        after=after,
        now_utc=utcnow(),
    )


async def _products(sessions: SessionFactory, user_id: int) -> dict[str, Any]:
    """The customer's proxy, balance, promo uses and gifts, each read by the service that owns it."""
    proxy = await proxy_access(sessions, user_id)
    copy, on_sale, balance, entries, uses, gift_list = await asyncio.gather(
        proxy_copy(sessions, user_id, proxy),
        proxy_on_sale(sessions),
        ledger.balance(sessions, user_id),
        ledger.entries(sessions, user_id, BALANCE_ENTRIES),
        PromoCatalogue(sessions).uses_by(user_id),
        gifts.of_customer(sessions, user_id),
    )
    return {
        "proxy": proxy,
        "proxy_copy": copy,
        # Time and expiry forms name the product when there is a second one to name.
        "products": ["vpn", "proxy"] if on_sale or proxy.ever else [],
        "balance": balance,
        "balance_entries": entries,
        "promo_uses": uses,
        "gifts": gift_list,
    }


async def _page(
    request: Request, operator: Operator, user_id: int, status: int = 200, **extra: Any
) -> Response:
    ctx = _ctx(request)
    found = await profile(ctx.sessions, user_id, ctx.settings.base_url)
    if found is None:
        raise NotFound
    products = await _products(ctx.sessions, user_id)
    return render(
        request,
        operator,
        "customer.html",
        status=status,
        p=found,
        action_id=new_action_id(),
        units=list(UNITS),
        values=extra.pop("values", {}),
        **products,
        **extra,
    )


@router.get("/customers/{user_id}")
async def customer(request: Request, user_id: int, operator: Operator = support) -> Response:
    return await _page(request, operator, user_id)


# Each action: what it does with the form (the action id and the reason are passed to every one),
# and the flash line it ends with.
Action = Callable[[CustomerDesk, int, dict[str, str], str, str], Awaitable[object]]
ACTIONS: dict[str, tuple[Action, Callable[[dict[str, str]], str]]] = {
    "time": (
        lambda desk, user, f, aid, why: desk.adjust(
            user, f.get("amount", ""), f.get("unit", ""), f.get("sign", ""), aid, why, f.get("product", "")
        ),
        lambda f: "done_customer_time",
    ),
    "expiry": (
        lambda desk, user, f, aid, why: desk.set_expiry(
            user, f.get("expires_at", ""), aid, why, f.get("product", "")
        ),
        lambda f: "done_customer_expiry",
    ),
    "ban": (
        lambda desk, user, f, aid, why: desk.set_banned(user, f.get("banned") == "1", aid, why),
        lambda f: "done_customer_banned" if f.get("banned") == "1" else "done_customer_unbanned",
    ),
    "link": (
        lambda desk, user, f, aid, why: desk.rotate_link(user, aid, why),
        lambda f: "done_customer_link",
    ),
    "provision": (
        lambda desk, user, f, aid, why: desk.reprovision(user, aid, why),
        lambda f: "done_customer_provision",
    ),
    "message": (
        lambda desk, user, f, aid, why: desk.message(user, f.get("text", ""), aid, why),
        lambda f: "done_customer_message",
    ),
}


@router.post("/customers/{user_id}/{name}")
async def act(request: Request, user_id: int, name: str, operator: Operator = support) -> Response:
    if name == "diagnose":
        return await diagnosis(request, user_id, operator)
    if name not in ACTIONS:
        raise NotFound
    action, done = ACTIONS[name]
    form = {key: str(value) for key, value in (await request.form()).items()}
    desk = CustomerDesk(_ctx(request), actor(operator))
    try:
        await action(desk, user_id, form, form.get("action_id", ""), form.get("reason", ""))
    except Invalid as error:
        # The refused form is shown again with what was typed (its action id too: still unused).
        return await _page(request, operator, user_id, 422, errors=error.fields, values=form, refused=name)
    except LookupError:
        raise NotFound from None
    return RedirectResponse(f"/console/customers/{user_id}?done={done(form)}", status_code=303)


async def diagnosis(request: Request, user_id: int, operator: Operator) -> Response:
    """Reads the panels live and changes nothing: shown on the page, not audited."""
    ctx = _ctx(request)
    hosts = await diagnose(ctx.sessions, ctx.settings, user_id)
    return await _page(request, operator, user_id, diagnosis=hosts)
