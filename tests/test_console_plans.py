"""Plans in the console: create, edit, reorder, hide, delete; bad input beside the field and nothing
changed; roles and CSRF; the audit log; and what the bot then offers."""

from __future__ import annotations

from decimal import Decimal

import httpx
from sqlalchemy import func, select

from shop.models import AuditEntry, PaymentMethod, Plan, PlanAudience
from shop.operators import audit
from shop.payments.plans import active_plans
from shop.payments.service import CheckoutError, new_payment_id, record_payment
from tests import factories
from tests.conftest import Database
from tests.console_client import OWNER, SUPPORT, console_context, sign_in
from tests.sub_client import api_client

MONTH = {
    "name": "Месяц",
    "name_en": "Month",
    "duration_days": "30",
    "price": "299",
    "currency": "",
    "price_stars": "150",
    "audience": "any",
    "active": "on",
}


async def _count(db: Database, model: type[Plan] | type[AuditEntry]) -> int:
    async with db.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def _create(client: httpx.AsyncClient, csrf: str, **changes: object) -> httpx.Response:
    return await client.post("/console/plans/new", data={**MONTH, "csrf_token": csrf, **changes})


async def test_owner_creates_edits_and_the_log_records_it(db: Database) -> None:
    ctx = console_context(db)
    async with api_client(ctx) as client:
        csrf = await sign_in(client, ctx, OWNER)
        empty = await client.get("/console/plans")
        assert "Создайте первый" in empty.text  # the empty state
        created = await _create(client, csrf, methods=["yookassa", "stars"])
        assert created.status_code == 303 and created.headers["location"].startswith("/console/plans?done=")
        listed = await client.get(created.headers["location"])
        assert "Месяц" in listed.text and "Тариф создан" in listed.text
        [offered] = await active_plans(ctx.sessions)
        assert (offered.title("en"), offered.title("ru"), offered.days) == ("Month", "Месяц", 30)
        assert offered.price == Decimal("299.00") and offered.currency == "RUB" and offered.price_stars == 150
        assert offered.methods == (PaymentMethod.STARS, PaymentMethod.YOOKASSA)
        edited = await client.post(
            f"/console/plans/{offered.id}", data={**MONTH, "price": "349.50", "csrf_token": csrf}
        )
        assert edited.status_code == 303
        [changed] = await active_plans(ctx.sessions)
        assert changed.price == Decimal("349.50") and changed.methods == ()
        page = await client.get("/console/audit")
        assert "plan.update" in page.text and "349.50" in page.text
        assert "plan.create" in (await client.get("/console/audit?area=plan")).text
        assert "plan.create" not in (await client.get("/console/audit?area=host")).text
    rows, total = await audit.entries(ctx.sessions)
    assert total == 2
    assert [(row.action, row.actor_id, row.channel) for row in rows] == [
        ("plan.update", OWNER, "console"),
        ("plan.create", OWNER, "console"),
    ]
    assert rows[0].before == {"methods": ["stars", "yookassa"], "price": "299.00"}
    assert rows[0].after == {"methods": [], "price": "349.50"}


async def test_bad_input_is_shown_beside_the_field_and_changes_nothing(db: Database) -> None:
    ctx = console_context(db)
    async with api_client(ctx) as client:
        csrf = await sign_in(client, ctx, OWNER)
        cases: list[tuple[dict[str, object], str, str]] = [
            ({"name": "  "}, "name", "Обязательное поле."),
            ({"price": "-5"}, "price", "Не может быть отрицательным."),
            ({"price": "abc"}, "price", "Введите целое число."),
            ({"duration_days": "0"}, "duration_days", "Должно быть больше нуля."),
            ({"duration_days": "-3"}, "duration_days", "Не может быть отрицательным."),
            ({"currency": "rubles"}, "currency", "Трёхбуквенный код валюты"),
            ({"price_stars": "-1"}, "price_stars", "Не может быть отрицательным."),
            ({"methods": ["cash"]}, "methods", "Выберите один из вариантов."),
            ({"audience": "vip"}, "audience", "Выберите один из вариантов."),
        ]
        for change, field, message in cases:
            answer = await _create(client, csrf, **change)
            assert answer.status_code == 422, change
            assert f'<p class="field-error" id="{field}-error">{message}' in answer.text, change
            assert 'value="Month"' in answer.text  # what was typed stays in the form
        assert await _count(db, Plan) == 0
        await _create(client, csrf)
        [plan] = await active_plans(ctx.sessions)
        refused = await client.post(
            f"/console/plans/{plan.id}", data={**MONTH, "price": "-1", "csrf_token": csrf}
        )
        assert refused.status_code == 422 and 'id="price-error"' in refused.text
    [unchanged] = await active_plans(ctx.sessions)
    assert unchanged.price == Decimal("299.00")
    assert await _count(db, AuditEntry) == 1  # the one good create


async def test_support_and_missing_csrf_are_refused(sqlite_db: Database) -> None:
    ctx = console_context(sqlite_db)
    await factories.plan(ctx.sessions)
    async with api_client(ctx) as client:
        csrf = await sign_in(client, ctx, SUPPORT)
        assert (await client.get("/console/plans")).status_code == 403
        assert (await _create(client, csrf)).status_code == 403
        assert (await client.post("/console/plans/1/delete", data={"csrf_token": csrf})).status_code == 403
    async with api_client(ctx) as client:
        await sign_in(client, ctx, OWNER)
        assert (await client.post("/console/plans/new", data=MONTH)).status_code == 403
        assert (await client.post("/console/plans/1/visibility", data={"active": "0"})).status_code == 403
        forged = await client.post("/console/plans/1/delete", data={"csrf_token": "x" * 43})
        assert forged.status_code == 403
    assert await _count(sqlite_db, Plan) == 1 and len(await active_plans(ctx.sessions)) == 1
    assert await _count(sqlite_db, AuditEntry) == 0


async def test_reorder_hide_and_delete_only_unused(sqlite_db: Database) -> None:
    ctx = console_context(sqlite_db)
    async with api_client(ctx) as client:
        csrf = await sign_in(client, ctx, OWNER)
        for name in ("Один", "Два", "Три"):
            await _create(client, csrf, name=name)
        one, two, three = (plan.id for plan in await active_plans(ctx.sessions))
        await client.post(f"/console/plans/{three}/move", data={"step": "up", "csrf_token": csrf})
        assert [plan.name for plan in await active_plans(ctx.sessions)] == ["Один", "Три", "Два"]
        await client.post(f"/console/plans/{two}/visibility", data={"active": "0", "csrf_token": csrf})
        assert [plan.name for plan in await active_plans(ctx.sessions)] == ["Один", "Три"]
        customer = await factories.subscriber(ctx.sessions)
        await record_payment(
            ctx.sessions,
            await ctx.storefront.current(),
            new_payment_id(),
            customer.user_id,
            one,
            PaymentMethod.P2P,
        )
        kept = await client.post(f"/console/plans/{one}/delete", data={"csrf_token": csrf})
        assert kept.status_code == 409 and "удалить его нельзя" in kept.text
        gone = await client.post(f"/console/plans/{two}/delete", data={"csrf_token": csrf})
        assert gone.status_code == 303
    assert await _count(sqlite_db, Plan) == 2
    actions = [row.action for row in (await audit.entries(ctx.sessions))[0]]
    assert actions == ["plan.delete", "plan.hide", "plan.move", *["plan.create"] * 3]


async def test_audience_and_methods_hold_at_checkout(sqlite_db: Database) -> None:
    ctx = console_context(sqlite_db, p2p_requisites="Card 2200", stars_enabled=True)
    async with api_client(ctx) as client:
        csrf = await sign_in(client, ctx, OWNER)
        await _create(client, csrf, name="Первый", audience="first", methods=["p2p"])
        await _create(client, csrf, name="Продление", audience="renewal")
    first, renewal = await active_plans(ctx.sessions)
    assert first.audience is PlanAudience.FIRST and renewal.audience is PlanAudience.RENEWAL
    assert [plan.name for plan in await active_plans(ctx.sessions, paid_before=False)] == ["Первый"]
    assert [plan.name for plan in await active_plans(ctx.sessions, paid_before=True)] == ["Продление"]
    customer = await factories.subscriber(ctx.sessions)
    for plan_id, method in ((first.id, PaymentMethod.STARS), (renewal.id, PaymentMethod.P2P)):
        try:
            await record_payment(
                ctx.sessions,
                await ctx.storefront.current(),
                new_payment_id(),
                customer.user_id,
                plan_id,
                method,
            )
        except CheckoutError:
            pass
        else:
            raise AssertionError(f"plan {plan_id} sold by {method}")
    paid = await record_payment(
        ctx.sessions,
        await ctx.storefront.current(),
        new_payment_id(),
        customer.user_id,
        first.id,
        PaymentMethod.P2P,
    )
    assert paid.amount == Decimal("299.00")


async def test_unknown_plans_and_hosts_are_404(sqlite_db: Database) -> None:
    ctx = console_context(sqlite_db)
    async with api_client(ctx) as client:
        csrf = await sign_in(client, ctx, OWNER)
        for path in ("/console/plans/999", "/console/hosts/999"):
            page = await client.get(path)
            assert page.status_code == 404 and "Здесь ничего нет" in page.text
        for path in (
            "/console/plans/999/delete",
            "/console/plans/999/visibility",
            "/console/hosts/999/delete",
        ):
            assert (await client.post(path, data={"csrf_token": csrf})).status_code == 404
        assert (
            await client.post("/console/plans/999", data={**MONTH, "csrf_token": csrf})
        ).status_code == 404
    assert await _count(sqlite_db, AuditEntry) == 0
