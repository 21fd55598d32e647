"""`vpnshop demo`: the whole shop on one machine, buying one subscription end to end.

It runs the real stack (migrations, embedded Temporal with its Web UI, the worker, the API) against
the sandboxes on loopback: a 3x-ui panel, an MTG panel (Telegram proxies), YooKassa and the Telegram
Bot API. It registers the panels as hosts, a VPN plan, a Telegram proxy plan and a demo customer,
buys both plans through the checkout service and PaymentWorkflow (the customer "opens" the YooKassa
payment page, which pays; YooKassa's webhook reaches our API), waits for delivery, prints the
subscription URL, the proxy's Connect link and the payment's workflow in the Temporal UI, then runs
until Ctrl-C or SIGTERM.

Settings: DATA_DIR (default `data/demo`), API_HOST, API_PORT, TEMPORAL_PORT, TEMPORAL_UI_PORT and
LOG_LEVEL come from the environment; everything else is the demo's own, and `.env` is not read, so a
real bot token or database never meets the sandboxes. A DATA_DIR holding a shop database that the
demo did not create is refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from sqlalchemy import select

from sandbox.mtg import SandboxMtg
from sandbox.panel import SandboxPanel
from sandbox.serving import serve
from sandbox.telegram import TelegramSandbox
from sandbox.yookassa import FakeYooKassa
from shop.access.host_registry import HostRegistry
from shop.access.hosts import HostService, parse_input
from shop.context import AppContext
from shop.crypto import Sealer
from shop.customers.accounts import ensure_subscription, register_user
from shop.models import Payment, PaymentMethod, Product
from shop.payments.plans import ensure_plan
from shop.payments.service import new_payment_id, start_checkout
from shop.proxy.access import proxy_access
from shop.proxy.hosts import MtgHostService, parse_mtg_input
from shop.runtime import preflight, processes
from shop.settings import Settings, load_settings
from workflows.payment import PaymentWorkflow
from workflows.payment_messages import PaymentProgress, workflow_id

log = logging.getLogger("vpnshop.demo")

CUSTOMER = 100_001
HOST_PREFIX = "demo-panel-"
MTG_PREFIX = "demo-mtg-"
MARKER = ".vpnshop-demo"
FROM_ENVIRONMENT = ("api_host", "api_port", "temporal_port", "temporal_ui_port", "log_level")
DELIVERY_WAIT = 120.0


class DemoError(Exception):
    """The demo cannot start or its purchase did not go through; the message says why."""


def demo_data_dir() -> Path:
    data_dir = Path(os.environ.get("DATA_DIR") or "data/demo")
    marker = data_dir / MARKER
    if (data_dir / "vpnshop.db").exists() and not marker.exists():
        raise DemoError(f"{data_dir} holds a shop database the demo did not create: set DATA_DIR elsewhere")
    data_dir.mkdir(parents=True, exist_ok=True)
    marker.touch()
    return data_dir


def demo_settings(
    data_dir: Path, yookassa: FakeYooKassa, yookassa_url: str, telegram: TelegramSandbox
) -> Settings:
    ambient = load_settings(_env_file=None)
    return load_settings(
        _env_file=None,
        **{name: getattr(ambient, name) for name in FROM_ENVIRONMENT},
        data_dir=data_dir,
        database_url="",
        temporal_address=None,
        temporal_ui_url="",
        public_base_url="",
        shop_name="vpnshop demo",
        telegram_bot_token=telegram.token,
        telegram_api_url=telegram.api_url,
        bot_mode="polling",
        admin_ids=[],
        encryption_key=None,  # generated once into DATA_DIR/secret.key
        yookassa_shop_id=yookassa.shop_id,
        yookassa_secret_key=yookassa.secret_key,
        yookassa_api_url=f"{yookassa_url}/v3",
        yookassa_receipt_email="receipts@demo.invalid",
        yookassa_test_mode=True,
        cryptopay_token=None,
        stars_enabled=False,
        p2p_requisites="",
        # The sandbox marks its webhooks as sent from a YooKassa address through a local proxy.
        trusted_proxies=["127.0.0.1/32"],
    )


async def _only_this_run(registry: HostRegistry[Any], prefix: str, name: str) -> bool:
    """Sandboxes of earlier runs are gone, so their hosts are disabled; True when `name` is new."""
    known = await registry.all()
    for host in known:
        if host.name.startswith(prefix) and host.name != name and host.enabled:
            await registry.set_enabled(host.name, False)
    return all(host.name != name for host in known)


async def _register_host(ctx: AppContext, panel: SandboxPanel) -> None:
    hosts = HostService(ctx.sessions, Sealer.from_settings(ctx.settings))
    name = f"{HOST_PREFIX}{panel.port}"
    if await _only_this_run(hosts, HOST_PREFIX, name):
        login: dict[str, object] = {"username": panel.username, "password": panel.password}
        place = {"name": name, "panel_url": panel.url, "inbound_id": panel.inbound_id, "flag": "🧪"}
        await hosts.add(parse_input(login | place))


async def _register_mtg(ctx: AppContext, mtg: SandboxMtg) -> None:
    service = MtgHostService(ctx.sessions, Sealer.from_settings(ctx.settings))
    name = f"{MTG_PREFIX}{mtg.port}"
    if await _only_this_run(service, MTG_PREFIX, name):
        values = {"name": name, "panel_url": mtg.url, "username": mtg.username, "password": mtg.password}
        await service.add(parse_mtg_input(dict(values)))


async def _pay_url(ctx: AppContext, payment_id: str, offered: str | None) -> str:
    """The YooKassa page to send the customer to (recorded by the workflow if the checkout's wait ran out)."""
    async with asyncio.timeout(60):
        while offered is None:
            await asyncio.sleep(0.2)
            async with ctx.sessions() as session:
                offered = await session.scalar(
                    select(Payment.confirmation_url).where(Payment.id == payment_id)
                )
    return offered


@dataclass(frozen=True)
class Purchase:
    payment_id: str
    run_id: str  # the payment workflow's run, for its page in the Temporal UI
    sub_url: str


async def buy(ctx: AppContext, panel: SandboxPanel) -> Purchase:
    """Sets the shop up and buys one month as the demo customer."""
    await _register_host(ctx, panel)
    plan = await ensure_plan(ctx.sessions, "Demo month", 30, Decimal("299.00"), "RUB")
    await register_user(ctx.sessions, CUSTOMER, "demo_customer", "Demo Customer", language="en")
    subscription = await ensure_subscription(ctx.sessions, CUSTOMER)
    payment_id, run_id = await _purchase(ctx, plan.id, plan.name)
    return Purchase(payment_id, run_id, f"{ctx.settings.base_url}/sub/{subscription.token}")


async def buy_proxy(ctx: AppContext, mtg: SandboxMtg) -> tuple[str, str]:
    """Buys a month of the Telegram proxy as the demo customer: its tg:// link and Connect address."""
    await _register_mtg(ctx, mtg)
    plan = await ensure_plan(ctx.sessions, "Demo proxy month", 30, Decimal("99.00"), "RUB", Product.PROXY)
    await _purchase(ctx, plan.id, plan.name)
    proxy = await proxy_access(ctx.sessions, CUSTOMER)
    return proxy.link, f"{ctx.settings.base_url}/proxy/{proxy.token}"


async def _purchase(ctx: AppContext, plan_id: int, plan_name: str) -> tuple[str, str]:
    """Pays for the plan on the YooKassa sandbox's page; (payment id, workflow run id) once delivered."""
    payment_id = new_payment_id()
    checkout = await start_checkout(ctx, CUSTOMER, plan_id, PaymentMethod.YOOKASSA, payment_id)
    pay_url = await _pay_url(ctx, payment_id, checkout.pay_url)
    print(
        f"checkout:          {checkout.amount} {checkout.currency} for '{plan_name}', paying at {pay_url}",
        flush=True,
    )
    async with httpx.AsyncClient(timeout=10) as http:
        (await http.get(pay_url)).raise_for_status()  # the customer's browser: the sandbox takes the money
    handle = ctx.require_temporal().get_workflow_handle_for(PaymentWorkflow.run, workflow_id(payment_id))
    async with asyncio.timeout(DELIVERY_WAIT):
        progress: PaymentProgress = await handle.result()
    if progress.stage != "delivered":
        raise DemoError(f"payment {payment_id} ended as {progress.stage!r}: {progress.detail}")
    return payment_id, (await handle.describe()).run_id


def workflow_url(settings: Settings, purchase: Purchase) -> str:
    namespace, workflow = settings.temporal_namespace, quote(workflow_id(purchase.payment_id), safe=":")
    return f"{settings.temporal_web}/namespaces/{namespace}/workflows/{workflow}/{purchase.run_id}/history"


def _customer_role(panel: SandboxPanel, mtg: SandboxMtg, telegram: TelegramSandbox) -> processes.Role:
    async def customer(ctx: AppContext, stop: asyncio.Event) -> None:
        purchase = await buy(ctx, panel)
        told = telegram.messages(CUSTOMER)
        print(f"delivered:         payment {purchase.payment_id}", flush=True)
        print(f"subscription URL:  {purchase.sub_url}", flush=True)
        print(f"payment workflow:  {workflow_url(ctx.settings, purchase)}", flush=True)
        proxy_link, connect = await buy_proxy(ctx, mtg)
        print(f"telegram proxy:    {proxy_link}", flush=True)
        print(f"proxy connect:     {connect}", flush=True)
        if told:
            print(f"bot to customer:   {told[-1].text!r} (Telegram sandbox)", flush=True)
        print("the demo keeps running: open the URLs above; Ctrl-C stops it", flush=True)
        await stop.wait()

    return customer


async def run_demo(stop: asyncio.Event | None = None) -> None:
    data_dir = demo_data_dir()
    yookassa = FakeYooKassa()
    async with contextlib.AsyncExitStack() as stack:
        panel = await stack.enter_async_context(SandboxPanel())
        mtg = await stack.enter_async_context(SandboxMtg())
        yookassa.base_url = await stack.enter_async_context(serve(yookassa.app))
        stack.push_async_callback(yookassa.webhooks.aclose)
        telegram = await stack.enter_async_context(TelegramSandbox())
        telegram.add_user(CUSTOMER, "Demo", username="demo_customer", language_code="en")
        settings = demo_settings(data_dir, yookassa, yookassa.base_url, telegram)
        yookassa.webhooks.url = f"{settings.base_url}/webhooks/yookassa"
        yookassa.webhooks.window = DELIVERY_WAIT
        print(
            f"vpnshop demo: data in {data_dir}, API {settings.base_url}, Temporal UI {settings.temporal_web}",
            flush=True,
        )
        print(
            f"sandboxes:         3x-ui panel {panel.url}, MTG panel {mtg.url}, YooKassa {yookassa.base_url}, "
            f"Telegram {telegram.api_url}",
            flush=True,
        )
        roles = [processes.run_worker, processes.run_api, _customer_role(panel, mtg, telegram)]
        with preflight.claim(settings):
            await processes.run_roles(settings, roles, migrate=True, stop=stop)
