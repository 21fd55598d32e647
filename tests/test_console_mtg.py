"""The Telegram proxy in the console: MTG panels (add with the login and node check, a wrong
password shown beside the field and nothing saved, check now with the nodes, disable, delete with
the panel cleanup, each audited) and the plan's product (a proxy plan; a plan with payments keeps
its product)."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from sandbox.mtg import SandboxMtg
from shop.models import MtgHost, Payment, PaymentMethod, Plan, Product
from shop.operators import audit
from tests.conftest import Database
from tests.console_client import OWNER, SUPPORT, console_context, sign_in
from tests.factories import subscriber
from tests.panel_fixtures import TEST_KEY
from tests.sub_client import api_client


async def _count(ctx: object, model: type) -> int:
    async with ctx.sessions() as session:  # type: ignore[attr-defined]
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_mtg_panels_in_the_console(db: Database) -> None:
    ctx = console_context(db, encryption_key=TEST_KEY, panel_timeout_seconds=2.0)
    async with SandboxMtg() as mtg, api_client(ctx) as client:
        csrf = await sign_in(client, ctx, OWNER)
        listed = await client.get("/console/mtg")
        assert listed.status_code == 200 and "Панелей MTG пока нет" in listed.text
        values = {"csrf_token": csrf, "name": "proxy", "panel_url": mtg.url, "username": mtg.username}
        refused = await client.post("/console/mtg", data={**values, "password": "wrong"})
        assert refused.status_code == 422 and 'id="username-error"' in refused.text
        assert "wrong" not in refused.text and await _count(ctx, MtgHost) == 0
        added = await client.post("/console/mtg", data={**values, "password": mtg.password})
        assert added.status_code == 303, added.text
        page_url = added.headers["location"].split("?")[0]
        checked = await client.post(f"{page_url}/check", data={"csrf_token": csrf})
        assert (
            checked.status_code == 200 and "mtg2.example.net:443" in checked.text and "в сети" in checked.text
        )
        off = await client.post(f"{page_url}/enabled", data={"enabled": "0", "csrf_token": csrf})
        assert off.status_code == 303
        async with ctx.sessions() as session:
            assert (await session.scalar(select(MtgHost.enabled))) is False
        await mtg.down()
        kept = await client.post(f"{page_url}/check", data={"csrf_token": csrf})
        assert "не отвечает" in kept.text or "unreachable" in kept.text
        await mtg.up()
        gone = await client.post(f"{page_url}/delete", data={"csrf_token": csrf})
        assert gone.status_code == 303 and await _count(ctx, MtgHost) == 0
        async with api_client(ctx) as support:
            await sign_in(support, ctx, SUPPORT)
            assert (await support.get("/console/mtg")).status_code == 403
    rows, _ = await audit.entries(ctx.sessions)
    assert [row.action for row in rows] == ["mtg_host.delete", "mtg_host.disable", "mtg_host.add"]


async def test_a_proxy_plan_and_a_product_that_cannot_change_once_paid(db: Database) -> None:
    ctx = console_context(db)
    async with api_client(ctx) as client:
        csrf = await sign_in(client, ctx, OWNER)
        form = await client.get("/console/plans/new")
        assert 'name="product"' in form.text and "Telegram-прокси" in form.text
        values = {"csrf_token": csrf, "name": "Прокси", "duration_days": "30", "price": "99", "active": "on"}
        bad = await client.post("/console/plans/new", data={**values, "product": "coffee"})
        assert bad.status_code == 422 and 'id="product-error"' in bad.text and await _count(ctx, Plan) == 0
        made = await client.post("/console/plans/new", data={**values, "product": "proxy"})
        assert made.status_code == 303
        async with ctx.sessions() as session:
            plan = await session.scalar(select(Plan))
        assert plan is not None and plan.product is Product.PROXY
        await subscriber(ctx.sessions, 1001)
        async with ctx.sessions() as session, session.begin():
            session.add(Payment(id="p1", user_id=1001, plan_id=plan.id, method=PaymentMethod.P2P,
                                amount=Decimal("99"), currency="RUB"))  # fmt: skip
        changed = await client.post(f"/console/plans/{plan.id}", data={**values, "product": "vpn"})
        assert changed.status_code == 422 and "продукт менять нельзя" in changed.text
        async with ctx.sessions() as session:
            assert (await session.get(Plan, plan.id)).product is Product.PROXY  # type: ignore[union-attr]
