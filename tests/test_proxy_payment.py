"""Buying the proxy through the same checkout and payment workflow as the VPN (real YooKassa and
Telegram sandboxes, our API, a worker, a sandbox MTG panel): the card with Connect (our https
redirect to tg://proxy) and Copy; a panel down during the purchase delivers when it returns; the
VPN entitlement is untouched; the referrer is rewarded for a proxy purchase too."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import httpx
from sqlalchemy import select
from temporalio.client import Client

from bot.texts import t
from sandbox.mtg import SandboxMtg
from shop.customers.accounts import register_user
from shop.models import (
    Grant,
    GrantKind,
    PaymentMethod,
    PaymentStatus,
    Product,
    ReferralReward,
    Subscription,
    utcnow,
)
from shop.payments.service import new_payment_id, start_checkout
from tests.conftest import Database
from tests.factories import subscriber
from tests.panel_fixtures import panel_settings
from tests.payments_env import SLOW_POLL, PaymentBench, payment_bench
from tests.proxy_fixtures import add_mtg_host, proxy_plan, proxy_row

CUSTOMER = 1001
LANGUAGE = "ru"  # the factories' customer


async def _pay(bench: PaymentBench) -> str:
    offer = await proxy_plan(bench.ctx)
    payment_id = new_payment_id()
    checkout = await start_checkout(bench.ctx, CUSTOMER, offer.id, PaymentMethod.YOOKASSA, payment_id)
    assert checkout.pay_url
    bench.yookassa.pay(checkout.pay_url.rsplit("/", 1)[-1])
    return payment_id


def _cards(bench: PaymentBench) -> list[dict[str, object]]:
    heading = t(LANGUAGE, "heading_proxy_paid").replace("<b>", "").replace("</b>", "")
    return [
        {"text": m.text, "buttons": m.buttons}
        for m in bench.telegram.messages(CUSTOMER)
        if heading in (m.text or "")
    ]


async def _subscription(bench: PaymentBench) -> Subscription:
    async with bench.ctx.sessions() as session:
        found = await session.scalar(select(Subscription).where(Subscription.user_id == CUSTOMER))
    assert found is not None
    return found


@contextlib.asynccontextmanager
async def proxy_bench(
    database: Database, client: Client, task_queue: str
) -> AsyncIterator[tuple[SandboxMtg, PaymentBench]]:
    """The payments bench with a sandbox MTG panel registered as the shop's MTG host."""
    async with (
        SandboxMtg() as mtg,
        payment_bench(database, client, task_queue, **(SLOW_POLL | panel_settings())) as bench,
    ):
        await add_mtg_host(bench.ctx, mtg)
        yield mtg, bench


async def test_buying_the_proxy_delivers_its_card_with_connect_and_copy(
    sqlite_db: Database, temporal_client: Client, task_queue: str
) -> None:
    async with proxy_bench(sqlite_db, temporal_client, task_queue) as (mtg, bench):
        await register_user(bench.ctx.sessions, 1002, "inviter", "Inviter")
        await register_user(bench.ctx.sessions, CUSTOMER, "alice", "Alice", referrer_id=1002)
        payment_id = await _pay(bench)
        assert (await bench.result(payment_id)).stage == "delivered"
        assert (await bench.payment(payment_id)).status is PaymentStatus.DELIVERED
        [card] = await bench.telegram.wait_for(lambda: _cards(bench), seconds=30)
        sub = await _subscription(bench)
        row = await proxy_row(bench.ctx, sub.id)
        assert row is not None and row.link and row.link.startswith("tg://proxy?server=")
        assert row.link in str(card["text"])
        connect, copy = card["buttons"][:2]
        assert connect["url"] == f"{bench.ctx.settings.base_url}/proxy/{sub.token}"
        assert copy["copy_text"] == {"text": row.link}
        assert sub.expires_at is None and sub.proxy_expires_at is not None  # the VPN is untouched
        [grant] = await bench.grants()
        assert (grant.product, grant.source_key) == (Product.PROXY, payment_id)

        async with httpx.AsyncClient(base_url=bench.api) as http:
            redirect = await http.get(f"/proxy/{sub.token}")
            assert redirect.status_code == 302 and redirect.headers["location"] == row.link
            assert (await http.get("/proxy/" + "x" * 32)).status_code == 404
            assert (await http.get("/proxy/bad!")).status_code == 404

        async with bench.ctx.sessions() as session:  # a proxy purchase rewards the referrer too
            reward = await session.scalar(
                select(ReferralReward).where(ReferralReward.payment_id == payment_id)
            )
        assert reward is not None and reward.referrer_id == 1002

        # A full refund takes the proxy's days back (not the VPN's) and the proxy stops on its node.
        bench.yookassa.refund(bench.yookassa.by_order(payment_id)["id"])
        await bench.wait_status(payment_id, PaymentStatus.REFUNDED)
        refunded = await _subscription(bench)
        assert refunded.expires_at is None and refunded.proxy_expires_at is not None
        assert refunded.proxy_expires_at <= utcnow()
        await bench.telegram.wait_for(lambda: not mtg.state.users[row.name].active, 30)
        refund_grant = (await bench.grants())[-1]
        assert (refund_grant.product, refund_grant.kind) == (Product.PROXY, GrantKind.REFUND)


async def test_a_panel_down_during_the_purchase_delivers_when_it_returns(
    sqlite_db: Database, temporal_client: Client, task_queue: str
) -> None:
    async with proxy_bench(sqlite_db, temporal_client, task_queue) as (mtg, bench):
        await subscriber(bench.ctx.sessions, CUSTOMER)
        await mtg.down()
        payment_id = await _pay(bench)
        await bench.telegram.wait_for(
            lambda: any(m.text == t(LANGUAGE, "pay_no_host_yet") for m in bench.telegram.messages(CUSTOMER)),
            30,
        )
        assert (await bench.payment(payment_id)).status is PaymentStatus.SUCCEEDED  # paid, not delivered yet
        assert not _cards(bench)
        await mtg.up()
        assert (await bench.result(payment_id)).stage == "delivered"
        assert len(await bench.telegram.wait_for(lambda: _cards(bench), seconds=30)) == 1
        assert len(mtg.state.users) == 1
        [grant] = await bench.grants()  # granted once, however long the panel was away
        assert isinstance(grant, Grant) and grant.product is Product.PROXY
