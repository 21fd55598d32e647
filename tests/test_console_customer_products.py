"""A customer's page covers the shop's other products, in Chromium: the Telegram proxy (its expiry,
its link and its copy on a sandbox MTG panel, in line and then behind the ledger), the balance with
its latest movements and the link owners adjust it through, the promo codes used (held and given
back) and the gifts bought and received. Everything is seeded through the domain services the bot
and the workflows use. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from playwright.async_api import Browser

from api.app import create_app
from sandbox.mtg import SandboxMtg
from sandbox.serving import serve
from shop.access import ledger as access_ledger
from shop.balance import ledger
from shop.context import AppContext
from shop.crypto import Sealer
from shop.gifts import store as gifts
from shop.models import BalanceKind, GrantKind, PaymentMethod, PaymentPurpose, PaymentStatus, Product
from shop.operators.audit import Actor
from shop.payments.service import new_payment_id, record_payment
from shop.payments.status import transition
from shop.promo import codes, uses
from shop.promo.catalogue import PromoCatalogue, parse_promo
from shop.proxy.pool import MtgPool
from shop.proxy.provisioning import ProxyProvisioner
from tests import factories
from tests.conftest import Database
from tests.console_browser import signed_in_page
from tests.console_client import OWNER, SUPPORT, console_context
from tests.proxy_fixtures import add_mtg_host, proxy_row

pytestmark = pytest.mark.browser
CAROL, DAVE = 7301, 7302
MONTH = timedelta(days=30)


async def proxy_synced(ctx: AppContext, mtg: SandboxMtg, sub_id: int) -> datetime:
    """Carol's proxy: a month granted on the ledger, then written to the sandbox MTG panel.
    Returns the proxy's expiry."""
    await add_mtg_host(ctx, mtg, "mtg-ams")
    granted = await access_ledger.grant(
        ctx.sessions, sub_id, "proxy:carol:1", MONTH, GrantKind.PURCHASE, "test", product=Product.PROXY
    )
    pool = MtgPool(lambda: Sealer.from_settings(ctx.settings))
    try:
        await ProxyProvisioner(ctx.sessions, pool, "vpnshop").sync(sub_id)
    finally:
        await pool.aclose()
    return granted.expires_at


async def promo_uses(ctx: AppContext) -> str:
    """An order with LAUNCH that expired (its use given back) and a free-days code activated.
    Returns the expired order's payment id."""
    catalogue = PromoCatalogue(ctx.sessions)
    owner_actor = Actor(OWNER, "console")
    for form in (
        {"code": "launch", "kind": "percent", "value": "20", "once_per_customer": "on", "active": "on"},
        {"code": "week7", "kind": "free_days", "value": "7", "active": "on"},
    ):
        await catalogue.create(owner_actor, parse_promo(form))
    launch = await codes.find(ctx.sessions, "LAUNCH")
    assert launch is not None
    await codes.choose(ctx.sessions, CAROL, launch.id)
    month = await factories.plan(ctx.sessions, price="299.00")
    owner = await ctx.storefront.current()
    order = await record_payment(
        ctx.sessions, owner, new_payment_id(), CAROL, month.id, PaymentMethod.YOOKASSA
    )
    await transition(ctx.sessions, order.id, PaymentStatus.EXPIRED)  # gives its use back
    assert await uses.hold_lost(ctx.sessions, order.id)
    await uses.activate(ctx.sessions, "week7", CAROL)
    return order.id


async def gift_bought_by(ctx: AppContext, payer: int) -> str:
    month = await factories.plan(ctx.sessions, name="Gift month", price="199.00")
    owner = await ctx.storefront.current()
    payment = await record_payment(
        ctx.sessions, owner, new_payment_id(), payer, month.id, PaymentMethod.YOOKASSA,
        purpose=PaymentPurpose.GIFT,
    )  # fmt: skip
    await transition(ctx.sessions, payment.id, PaymentStatus.SUCCEEDED)
    return (await gifts.mint(ctx.sessions, payment.id)).code


async def test_the_customer_page_shows_proxy_balance_promo_uses_and_gifts(
    db: Database, browser: Browser
) -> None:
    ctx = console_context(db)
    carol = await factories.subscriber(ctx.sessions, CAROL, "Carol")
    await factories.subscriber(ctx.sessions, DAVE, "Dave")
    async with SandboxMtg() as mtg:
        proxy = await proxy_synced(ctx, mtg, carol.id)
    row = await proxy_row(ctx, carol.id)
    assert row is not None and row.link.startswith("tg://proxy") and row.node

    await ledger.record(ctx.sessions, CAROL, BalanceKind.TOPUP, Decimal(500), "topup:carol:1", "test", "card")
    await ledger.record(
        ctx.sessions,
        CAROL,
        BalanceKind.ADJUSTMENT,
        Decimal(-120),
        "adjust:carol:1",
        "operator:5001",
        "typo fix",
    )
    bought = await gift_bought_by(ctx, CAROL)  # before she chooses a code: it carries none
    received = await gift_bought_by(ctx, DAVE)
    await gifts.claim(ctx.sessions, received, CAROL)
    released_order = await promo_uses(ctx)

    async with serve(create_app(ctx)) as base:
        page = await signed_in_page(browser, ctx, base, OWNER)
        await page.goto(f"{base}/console/customers/{CAROL}")

        # The proxy: the ledger's expiry, the panel's link, its copy in line with the shop.
        assert await page.locator("#proxy-expiry").inner_text() == proxy.strftime("%d.%m.%Y %H:%M UTC")
        assert await page.locator("#proxy-state").inner_text() == "active"
        assert await page.locator("#proxy-link").inner_text() == row.link
        copy = await page.locator("#proxy-copy").inner_text()
        assert "mtg-ams" in copy and row.node in copy and "in line" in copy

        # The balance and its movements, newest first, and the owner's way to adjust it.
        assert await page.locator("#balance").inner_text() == "Balance now: 380.00 ₽"
        movements = page.locator("#balance-entries tbody tr")
        assert await movements.count() == 2
        newest = await movements.nth(0).inner_text()
        assert "-120.00 ₽" in newest and "adjustment" in newest and "typo fix" in newest
        assert "top-up" in await movements.nth(1).inner_text()
        await page.locator("#balance-adjust").click()
        await page.get_by_text("Customer 7301: balance 380.00 ₽").wait_for()

        await page.goto(f"{base}/console/customers/{CAROL}")
        launch = await page.locator('#promo-uses tr[data-code="LAUNCH"]').inner_text()
        assert released_order[:10] in launch and "−59.80 ₽" in launch and "given back" in launch
        week = await page.locator('#promo-uses tr[data-code="WEEK7"]').inner_text()
        assert "+7 days" in week and "counts" in week

        mine = await page.locator(f'#gifts tr[data-gift="{bought}"]').inner_text()
        assert "bought" in mine and "waiting to be opened" in mine and "Gift month · 30 · 199.00 ₽" in mine
        theirs = await page.locator(f'#gifts tr[data-gift="{received}"]').inner_text()
        assert f"received from {DAVE}" in theirs and f"opened by {CAROL}" in theirs

        # A month more on the ledger, not yet written to the panel: the copy is behind the shop.
        await access_ledger.grant(
            ctx.sessions, carol.id, "proxy:carol:2", MONTH, GrantKind.PURCHASE, "test", product=Product.PROXY
        )
        await page.reload()
        assert await page.locator("#proxy-expiry").inner_text() == (proxy + MONTH).strftime(
            "%d.%m.%Y %H:%M UTC"
        )
        assert "behind the shop" in await page.locator("#proxy-copy").inner_text()

        # Support sees the same page but not the owners-only balance link.
        support = await signed_in_page(browser, ctx, base, SUPPORT)
        await support.goto(f"{base}/console/customers/{CAROL}")
        assert await support.locator("#balance").inner_text() == "Balance now: 380.00 ₽"
        assert await support.locator("#balance-adjust").count() == 0
