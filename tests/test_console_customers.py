"""Customers in the console, in Chromium against a sandbox 3x-ui panel and the real workflows: find
a customer by each key; add 36 hours with a reason, double-clicked and the form sent again, and see
the ledger, the panel's expiry and the audit log change once; a refused form changes nothing;
diagnose a customer whose panel client was changed behind the shop's back and see each difference
named. SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from playwright.async_api import Browser, Page
from sqlalchemy import select
from temporalio.client import Client

from api.app import create_app
from sandbox.mtg import SandboxMtg
from sandbox.panel import SandboxPanel
from sandbox.serving import serve
from shop.access.grants import run_grant
from shop.access.ledger import history
from shop.access.provisioning import expiry_ms
from shop.context import AppContext
from shop.customers.accounts import register_user
from shop.messaging.pacing import telegram_queue
from shop.models import Grant, GrantKind, PanelClient, Product, Subscription, utcnow
from shop.operators import audit
from tests.conftest import Database, make_context
from tests.console_browser import form_values, signed_in_page
from tests.console_client import OWNER, SUPPORT, sign_in
from tests.panel_fixtures import StartPanel, add_sandbox_host, panel_settings
from tests.proxy_fixtures import add_mtg_host, proxy_row
from tests.sub_client import api_client
from tests.telegram_fixtures import send_queues
from worker.main import build_worker
from workflows.operator import notice_workflow_id

pytestmark = pytest.mark.browser
ALICE, BOB = 1001, 1002


@pytest.fixture
async def shop(db: Database, temporal_client: Client, task_queue: str) -> AsyncIterator[AppContext]:
    ctx = make_context(
        db,
        temporal_client,
        task_queue,
        admin_ids=str(OWNER),
        console_support_ids=str(SUPPORT),
        **panel_settings(),
    )
    async with build_worker(ctx, temporal_client):
        yield ctx


async def customers_with_access(shop: AppContext, panel: SandboxPanel) -> None:
    await add_sandbox_host(shop, panel, "Frankfurt")
    await register_user(shop.sessions, ALICE, "alice", "Alice Smith")
    await register_user(shop.sessions, BOB, "bobby", "Bob Jones")
    for user_id in (ALICE, BOB):
        # Unique per test: the Temporal server (and its grant workflow ids) outlives each test.
        key = f"pay:{user_id}:{uuid.uuid4().hex[:8]}"
        await run_grant(shop, user_id, key, timedelta(days=30), GrantKind.PURCHASE, "test")


async def subscription(shop: AppContext, user_id: int) -> Subscription:
    async with shop.sessions() as session:
        found = await session.scalar(select(Subscription).where(Subscription.user_id == user_id))
    assert found is not None
    return found


async def alice_on(shop: AppContext, panel: SandboxPanel) -> tuple[Subscription, str]:
    """Alice and Bob with 30 days on `panel`; Alice's subscription and her client's panel email."""
    await customers_with_access(shop, panel)
    alice = await subscription(shop, ALICE)
    async with shop.sessions() as session:
        email = await session.scalar(select(PanelClient.email).where(PanelClient.subscription_id == alice.id))
    assert email
    return alice, email


async def found(page: Page, base: str, query: str) -> list[int]:
    await page.goto(f"{base}/console/customers")
    await page.fill('input[name="q"]', query)
    await page.get_by_role("button", name="Search").click()
    await page.get_by_role("heading", name="Customers").wait_for()
    rows = page.locator("#customers tr[data-customer]")
    return [int(await rows.nth(i).get_attribute("data-customer") or 0) for i in range(await rows.count())]


async def test_find_by_each_key_and_add_36_hours_once(
    shop: AppContext, start_panel: StartPanel, browser: Browser
) -> None:
    panel = await start_panel(version="v3.1")
    alice, email = await alice_on(shop, panel)
    async with serve(create_app(shop)) as base:
        page = await signed_in_page(browser, shop, base, SUPPORT)  # support may do this too
        for key in (str(ALICE), "@alice", "@ALICE", "smith", alice.token, email):
            assert await found(page, base, key) == [ALICE], key
        assert await found(page, base, "") == [BOB, ALICE] or await found(page, base, "") == [ALICE, BOB]
        assert await found(page, base, "nobody-here") == []

        await page.goto(f"{base}/console/customers/{ALICE}")
        before = alice.expires_at
        assert before is not None
        # A reason is required: refused beside the field, nothing changed.
        await page.fill("#amount", "36")
        await page.select_option("#action-time select[name=unit]", "hours")
        await page.locator("#action-time button").click()
        assert await page.locator("#action-time #reason-error").inner_text() == "Required."
        assert (await subscription(shop, ALICE)).expires_at == before

        await page.fill("#time-reason", "compensation for the outage")
        sent = await form_values(page, "#action-time")
        await page.locator("#action-time button").dblclick()
        await page.get_by_text("Time changed.").wait_for()
        again = await page.request.post(f"{base}/console/customers/{ALICE}/time", form=sent)  # resent
        assert again.ok

        after = (await subscription(shop, ALICE)).expires_at
        assert after == before + timedelta(hours=36)
        async with shop.sessions() as session:
            grants = list(
                await session.scalars(select(Grant).where(Grant.source_key.like(f"console:{ALICE}:%")))
            )
        assert [(g.kind, g.duration_seconds, g.resulting_expiry) for g in grants] == [
            (GrantKind.ADJUSTMENT, 36 * 3600, after)
        ]
        assert [c["expiryTime"] for c in panel.clients() if c["email"] == email] == [expiry_ms(after)]
        entries = [e for e in (await audit.entries(shop.sessions))[0] if e.action == "customer.time"]
        assert [(e.actor_id, e.channel, e.target, e.reason) for e in entries] == [
            (SUPPORT, "console", f"user:{ALICE}", "compensation for the outage")
        ]
        await page.goto(f"{base}/console/customers/{ALICE}")
        ledger = await page.locator("#ledger").inner_text()
        assert "operator" in ledger and f"console:{ALICE}:" in ledger and "+36.0 h" in ledger
        assert "compensation for the outage" in await page.locator("#audit").inner_text()
        assert await page.locator("#hosts .badge").inner_text() == "in line"


async def test_diagnose_names_what_the_panel_changed(
    shop: AppContext, start_panel: StartPanel, browser: Browser
) -> None:
    panel = await start_panel(version="v2")
    alice, email = await alice_on(shop, panel)
    client = panel.client(email)
    assert client is not None
    # Someone edits the client in the panel's own UI: switched off, no expiry.
    edited = {**client, "enable": False, "expiryTime": 0}
    panel.state.update_client(client["id"], panel.inbound_id, json.dumps({"clients": [edited]}))
    async with serve(create_app(shop)) as base:
        page = await signed_in_page(browser, shop, base, OWNER)
        await page.goto(f"{base}/console/customers/{ALICE}")
        await page.get_by_role("button", name="Diagnose").click()
        await page.locator("#diagnosis").wait_for()
        assert await page.locator("#diagnosis h3 .badge").inner_text() == "differs"
        shown = {
            await item.get_attribute("data-field"): await item.inner_text()
            for item in await page.locator("#diagnosis li").all()
        }
        assert alice.expires_at is not None
        expected = alice.expires_at.strftime("%Y-%m-%d %H:%M:%S UTC")
        assert shown == {
            "enable": "Enabled: the panel says off, the shop expects on.",
            "expiry": f"Expiry: the panel holds never, the shop expects {expected}.",
        }
        # Bob's client was left alone: nothing to name.
        await page.goto(f"{base}/console/customers/{BOB}")
        await page.get_by_role("button", name="Diagnose").click()
        await page.locator("#diagnosis").wait_for()
        assert await page.locator("#diagnosis h3 .badge").inner_text() == "in line"
        assert await page.locator("#diagnosis li").count() == 0


async def test_a_message_is_checked_and_sent_once(shop: AppContext, start_panel: StartPanel) -> None:
    """Without a browser: refused input beside the field and nothing done; a resent form (the same
    action id) is one message run and one audit entry."""
    panel = await start_panel(version="v3.1")
    await customers_with_access(shop, panel)
    async with api_client(shop) as client:
        csrf = await sign_in(client, shop, SUPPORT)
        page = await client.get(f"/console/customers/{ALICE}")
        action_id = re.findall(r'name="action_id" value="([^"]+)"', page.text)[0]
        form = {"csrf_token": csrf, "action_id": action_id, "reason": "outage", "text": "<b>sorry"}
        refused = await client.post(f"/console/customers/{ALICE}/message", data=form)
        assert refused.status_code == 422 and 'id="text-error"' in refused.text
        no_reason = await client.post(
            f"/console/customers/{ALICE}/message", data={**form, "text": "<b>sorry</b>", "reason": " "}
        )
        assert no_reason.status_code == 422 and 'id="reason-error"' in no_reason.text
        assert [e for e in (await audit.entries(shop.sessions))[0] if e.action == "customer.message"] == []
        for _ in range(2):  # the form sent twice
            sent = await client.post(
                f"/console/customers/{ALICE}/message", data={**form, "text": "<b>sorry</b>"}
            )
            assert sent.status_code == 303
    handle = shop.require_temporal().get_workflow_handle(notice_workflow_id(action_id))
    assert await handle.result() is False  # this shop has no bot: told so, not retried forever
    # Sent from the bot's paced queue, in the pace every Telegram send keeps.
    assert await send_queues(handle, "tell_customer") == [telegram_queue(shop.settings.temporal_task_queue)]
    entries = [e for e in (await audit.entries(shop.sessions))[0] if e.action == "customer.message"]
    assert [(e.actor_id, e.reason, e.after) for e in entries] == [
        (SUPPORT, "outage", {"message": "<b>sorry</b>"})
    ]


async def test_an_operator_adds_proxy_days_and_the_mtg_panel_follows(shop: AppContext) -> None:
    async with SandboxMtg() as mtg:
        await add_mtg_host(shop, mtg, "mtg-ams")
        await register_user(shop.sessions, ALICE, "alice", "Alice Smith")
        async with api_client(shop) as client:
            csrf = await sign_in(client, shop, SUPPORT)
            page = await client.get(f"/console/customers/{ALICE}")
            assert 'id="time-product"' in page.text  # the shop sells a second product: it is named
            action_id = re.findall(r'name="action_id" value="([^"]+)"', page.text)[0]
            form = {"csrf_token": csrf, "action_id": action_id, "reason": "apology", "sign": "add",
                    "amount": "3", "unit": "days", "product": "proxy"}  # fmt: skip
            refused = await client.post(f"/console/customers/{ALICE}/time", data={**form, "product": "boat"})
            assert refused.status_code == 422 and 'id="product-error"' in refused.text
            for _ in range(2):  # the form sent twice
                sent = await client.post(f"/console/customers/{ALICE}/time", data=form)
                assert sent.status_code == 303
        alice = await subscription(shop, ALICE)
        assert alice.expires_at is None and alice.proxy_expires_at is not None  # the VPN untouched
        assert timedelta(days=3) - (alice.proxy_expires_at - utcnow()) < timedelta(minutes=1)
        ledger = await history(shop.sessions, alice.id)
        assert [(g.product, g.duration_seconds) for g in ledger] == [(Product.PROXY, 3 * 86400)]
        row = await proxy_row(shop, alice.id)
        assert row is not None  # provisioned by the grant's run: the proxy is on the panel
        [user] = [u for u in mtg.state.users.values() if u.name == row.name]
        assert user.active and abs(user.expires_at - alice.proxy_expires_at) < timedelta(seconds=1)
