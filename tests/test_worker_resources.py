"""The worker closes what its activities opened: provider and panel HTTP clients, once it stops."""

from __future__ import annotations

import gc
import warnings

from temporalio.client import Client

from shop.http_client import HttpClient
from shop.models import PaymentMethod
from shop.payments.service import new_payment_id, start_checkout
from tests.conftest import Database
from tests.factories import plan, subscriber
from tests.panel_fixtures import StartPanel, add_sandbox_host, panel_settings
from tests.payments_env import SLOW_POLL, payment_bench


def _open_clients(prefixes: tuple[str, ...]) -> list[HttpClient]:
    found = [obj for obj in gc.get_objects() if isinstance(obj, HttpClient)]
    return [c for c in found if c.is_open and c.base_url.startswith(prefixes)]


async def test_provider_and_panel_clients_are_closed_when_the_worker_stops(
    sqlite_db: Database, temporal_client: Client, task_queue: str, start_panel: StartPanel
) -> None:
    panel = await start_panel()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        async with payment_bench(
            sqlite_db, temporal_client, task_queue, **(SLOW_POLL | panel_settings())
        ) as bench:
            ctx = bench.ctx
            await add_sandbox_host(ctx, panel)
            await subscriber(ctx.sessions, 1001)
            offer = await plan(ctx.sessions)
            payment_id = new_payment_id()
            checkout = await start_checkout(ctx, 1001, offer.id, PaymentMethod.YOOKASSA, payment_id)
            assert checkout.pay_url
            bench.yookassa.pay(checkout.pay_url.rsplit("/", 1)[-1])
            assert (await bench.result(payment_id)).stage == "delivered"
            assert panel.clients(), "provisioning reached the panel"
            used = (ctx.settings.yookassa_api_url, panel.url.rstrip("/"))
            assert _open_clients(used), "the worker's clients are open while it runs"
        gc.collect()
        assert _open_clients(used) == []
    leaks = [w for w in caught if issubclass(w.category, ResourceWarning)]
    assert leaks == [], [str(w.message) for w in leaks]
