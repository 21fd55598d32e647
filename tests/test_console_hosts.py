"""Hosts in the console against sandbox 3x-ui panels: add with the panel checks (a duplicate, a
wrong password or inbound shown beside the field, nothing saved), check now, reconcile now through
the real workflow, the stored report, the customers a host is behind on, disable, delete; each
action audited with its operator."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select
from temporalio.client import Client

from sandbox.panel import SandboxPanel
from shop.access import ledger
from shop.context import AppContext
from shop.models import GrantKind, Host
from shop.operators import audit
from tests.conftest import Database, make_context
from tests.console_client import OWNER, SUPPORT, sign_in
from tests.factories import subscriber
from tests.panel_fixtures import StartPanel, panel_settings
from tests.sub_client import api_client
from worker.main import build_worker


@pytest.fixture
async def shop(db: Database, temporal_client: Client, task_queue: str) -> AsyncIterator[AppContext]:
    ctx = make_context(
        db, temporal_client, task_queue, admin_ids=str(OWNER), console_support_ids=str(SUPPORT),
        **panel_settings(),
    )  # fmt: skip
    async with build_worker(ctx, temporal_client):
        yield ctx


def form(panel: SandboxPanel, csrf: str, **changes: object) -> dict[str, object]:
    values: dict[str, object] = {
        "csrf_token": csrf,
        "name": "Frankfurt",
        "panel_url": panel.url,
        "inbound_id": str(panel.inbound_id),
        "username": panel.username,
        "password": panel.password,
        "flag": "🇩🇪",
    }
    return {**values, **changes}


async def hosts(ctx: AppContext) -> int:
    async with ctx.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Host)) or 0)


def figure(page: httpx.Response, key: str) -> int:
    found = re.search(rf'data-key="{key}">(\d+)<', page.text)
    assert found, f"no {key} in the report"
    return int(found.group(1))


async def test_add_check_reconcile_disable_delete(shop: AppContext, start_panel: StartPanel) -> None:
    panel = await start_panel(version="v3.0")
    alice = await subscriber(shop.sessions, 1001, "Alice")
    await ledger.grant(shop.sessions, alice.id, "pay:a", timedelta(days=30), GrantKind.PURCHASE, "t")
    async with api_client(shop) as client:
        csrf = await sign_in(client, shop, OWNER)
        assert "Серверов пока нет" in (await client.get("/console/hosts")).text
        added = await client.post("/console/hosts/new", data=form(panel, csrf))
        assert added.status_code == 303, added.text
        page_url = added.headers["location"].split("?")[0]
        page = await client.get(page_url)
        assert "Сверки ещё не было" in page.text
        assert "1001" in page.text and "клиента на сервере ещё нет" in page.text  # behind on Alice

        checked = await client.post(f"{page_url}/check", data={"csrf_token": csrf})
        assert checked.status_code == 200
        assert "v3.0" in checked.text and "vless :" in checked.text
        assert re.search(r"Клиентов на панели</span><b>0<", checked.text)

        reconciled = await client.post(f"{page_url}/reconcile", data={"csrf_token": csrf})
        assert reconciled.status_code == 200
        assert "Сверка только что выполнена" in reconciled.text
        assert figure(reconciled, "backfilled") == 1 and figure(reconciled, "failed") == 0
        assert [c["enable"] for c in panel.clients()] == [True]
        assert "Нет: на сервере всё, как в магазине." in reconciled.text
        again = await client.get(page_url)  # the report is stored: it stays after the answer
        assert figure(again, "backfilled") == 1 and "Последняя сверка" in again.text
        listed = await client.get("/console/hosts")
        assert "Frankfurt" in listed.text and "в порядке" in listed.text
        # Days added in the ledger but not yet written to the panel: the host is behind on Alice.
        await ledger.grant(shop.sessions, alice.id, "gift:a", timedelta(days=7), GrantKind.GIFT, "t")
        stale = await client.get(page_url)
        assert "срок или вкл/выкл отличаются от магазина" in stale.text and "1001" in stale.text

        off = await client.post(f"{page_url}/enabled", data={"enabled": "0", "csrf_token": csrf})
        assert off.status_code == 303
        gone = await client.post(f"{page_url}/delete", data={"csrf_token": csrf})
        assert gone.status_code == 303 and await hosts(shop) == 0
        assert panel.clients() == [] or all(not c["enable"] for c in panel.clients())
    rows, _ = await audit.entries(shop.sessions)
    assert [(row.action, row.actor_id, row.channel) for row in rows] == [
        ("host.delete", OWNER, "console"),
        ("host.disable", OWNER, "console"),
        ("host.reconcile", OWNER, "console"),
        ("host.add", OWNER, "console"),
    ]
    assert rows[-1].after is not None and rows[-1].after["password"] is True  # set, never shown


async def test_bad_hosts_are_refused_beside_the_field(shop: AppContext, start_panel: StartPanel) -> None:
    panel = await start_panel(version="v2")
    async with api_client(shop) as client:
        csrf = await sign_in(client, shop, OWNER)
        first = await client.post("/console/hosts/new", data=form(panel, csrf))
        assert first.status_code == 303
        host_id = int(first.headers["location"].split("?")[0].rsplit("/", 1)[1])
        cases: list[tuple[dict[str, object], str, str]] = [
            ({}, "name", "Сервер с таким названием уже есть."),
            ({"name": "B", "password": "wrong"}, "username", "Панель не приняла этот логин."),
            ({"name": "C", "inbound_id": "999"}, "inbound_id", "На панели нет inbound с таким ID."),
            ({"name": "D", "panel_url": "ftp://x"}, "panel_url", "Неверное значение."),
            ({"name": "", "panel_url": panel.url}, "name", "Обязательное поле."),
            ({"name": "E", "password": ""}, "username", "Укажите логин и пароль или API-токен."),
        ]
        for changes, field, message in cases:
            answer = await client.post("/console/hosts/new", data=form(panel, csrf, **changes))
            assert answer.status_code == 422, changes
            assert f'<p class="field-error" id="{field}-error">{message}</p>' in answer.text, changes
            # A typed secret is not echoed back.
            assert 'name="password" type="password" value=""' in answer.text, changes
        renamed = await client.post(
            "/console/hosts/new", data=form(panel, csrf, name="Second")
        )  # a second host on the same panel is fine
        assert renamed.status_code == 303
        clash = await client.post(
            f"/console/hosts/{host_id}", data=form(panel, csrf, name="Second", password="")
        )
        assert clash.status_code == 422 and 'id="name-error">Сервер с таким названием уже есть.' in clash.text
    assert await hosts(shop) == 2
    assert [row.action for row in (await audit.entries(shop.sessions))[0]] == ["host.add", "host.add"]


async def test_support_may_not_touch_hosts(shop: AppContext, start_panel: StartPanel) -> None:
    panel = await start_panel(version="v2")
    async with api_client(shop) as client:
        csrf = await sign_in(client, shop, SUPPORT)
        assert (await client.get("/console/hosts")).status_code == 403
        assert (await client.post("/console/hosts/new", data=form(panel, csrf))).status_code == 403
    assert await hosts(shop) == 0 and (await audit.entries(shop.sessions))[1] == 0
