"""The dashboard page: the seeded shop's figures, SVG charts, links only to lists the console has,
hosts up/down, and the Schedules from a real Temporal server (or a clear line without one)."""

from __future__ import annotations

import asyncio
import re
import uuid
from datetime import timedelta

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionStartWorkflow,
    ScheduleIntervalSpec,
    ScheduleSpec,
)

from console.auth import LANG_COOKIE
from shop.models import utcnow
from shop.storefront.dashboard import figures
from tests.conftest import Database
from tests.console_client import OWNER, SUPPORT, console_context, sign_in
from tests.shop_seed import generate, insert_seeded
from tests.sub_client import api_client
from workflows.expiry import ReminderCleanupInput, ReminderCleanupWorkflow


def _figure(html: str, label: str) -> str:
    """The number on the tile whose label is `label`."""
    found = re.search(r"<b>([^<]*)</b><span>" + re.escape(label) + "</span>", html)
    assert found, f"no figure {label!r}"
    return found.group(1)


async def test_the_page_shows_the_shops_figures(db: Database) -> None:
    now = utcnow()
    await insert_seeded(db.sessions, generate(now, customers=120, payments=400))
    ctx = console_context(db)
    expected = await figures(ctx.sessions, now)
    async with api_client(ctx) as client:
        await sign_in(client, ctx, SUPPORT)  # support sees the figures too (no actions here)
        client.cookies.set(LANG_COOKIE, "en")
        page = await client.get("/console/")
        # The figures link to the customer and payment lists behind them, which answer.
        lists = sorted(set(re.findall(r'href="(/console/(?:customers|payments)\?[^"]+)"', page.text)))
        answers = [(await client.get(link.replace("&amp;", "&"))).status_code for link in lists]
    assert page.status_code == 200
    html = page.text
    assert "/console/payments?status=review" in lists and "/console/customers?state=paid" in lists
    assert len(lists) >= 8 and answers == [200] * len(lists), list(zip(lists, answers, strict=True))
    assert _figure(html, "paid, active") == str(expected.paid_active)
    assert _figure(html, "on a trial") == str(expected.trial_active)
    assert _figure(html, "renewals due in 7 days") == str(expected.renewals_due)
    assert _figure(html, "payments to review") == str(expected.to_review) != "0"
    assert _figure(html, "paid, not delivered") == str(expected.paid_not_delivered)
    new = expected.new_customers
    assert _figure(html, "new: today / 7 / 30 days") == f"{new['today']} / {new['7d']} / {new['30d']}"
    conversion = f"trial → paid ({expected.trial_converted} of {expected.trial_takers})"
    assert _figure(html, conversion) == f"{expected.conversion} %"
    rub = expected.revenue_total("30d")["RUB"]
    assert f"{rub:.2f}".replace(".00", "") + " RUB" in _figure(html, "30 days")
    # Four 30-day charts, one bar per day, drawn on the server.
    assert html.count('<svg class="chart"') == 4 and html.count("<rect ") == 4 * 30
    # Support may not open hosts: no link they could not follow.
    assert '<td data-label="Name">host-0</td>' in html and "/console/hosts" not in html
    assert ">up<" in html and ">down<" in html and ">never<" in html
    assert "Temporal does not answer" in html  # this process has no Temporal client


async def test_an_empty_shop_shows_empty_states(db: Database) -> None:
    ctx = console_context(db)
    async with api_client(ctx) as client:
        await sign_in(client, ctx, OWNER)
        client.cookies.set(LANG_COOKIE, "en")
        html = (await client.get("/console/")).text
    assert "No payments in the last 30 days yet." in html and "No hosts yet" in html
    assert '<h2><a href="/console/hosts">Hosts</a></h2>' in html  # the owner's figure links to the list
    assert _figure(html, "paid, active") == "0" and "trial → paid (0 of 0)" in html


async def test_the_schedules_with_their_runs(db: Database, temporal_client: Client) -> None:
    schedule_id = f"dashboard-page-{uuid.uuid4().hex[:8]}"
    handle = await temporal_client.create_schedule(
        schedule_id,
        Schedule(
            action=ScheduleActionStartWorkflow(
                ReminderCleanupWorkflow.run, ReminderCleanupInput(keep_days=90), id=f"{schedule_id}-run",
                task_queue="nobody-polls-this",
            ),
            spec=ScheduleSpec(intervals=[ScheduleIntervalSpec(every=timedelta(hours=1))]),
        ),
    )  # fmt: skip
    try:
        listed = [s.id async for s in await temporal_client.list_schedules()]
        while schedule_id not in listed:  # the list is read from Temporal's visibility store
            await asyncio.sleep(0.1)
            listed = [s.id async for s in await temporal_client.list_schedules()]
        ctx = console_context(db)
        ctx.temporal = temporal_client
        async with api_client(ctx) as client:
            await sign_in(client, ctx, OWNER)
            client.cookies.set(LANG_COOKIE, "en")
            html = (await client.get("/console/")).text
        row = html[html.index(f">{schedule_id}</a>") :].split("</tr>", 1)[0]
        assert "ReminderCleanupWorkflow" in row and '<td data-label="Runs">0</td>' in row
        assert f'href="http://127.0.0.1:8233/namespaces/vpnshop/schedules/{schedule_id}"' in html
    finally:
        await handle.delete()
