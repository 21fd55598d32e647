"""Proxy fixtures: a sandbox MTG panel registered as an MTG host, and a proxy plan."""

from __future__ import annotations

from decimal import Decimal

from sandbox.mtg import SandboxMtg
from shop.context import AppContext
from shop.crypto import Sealer
from shop.models import MtgHost, Plan, Product, ProxyClient, Subscription
from shop.proxy.hosts import MtgHostService, parse_mtg_input


async def add_mtg_host(ctx: AppContext, mtg: SandboxMtg, name: str = "mtg") -> MtgHost:
    service = MtgHostService(ctx.sessions, Sealer.from_settings(ctx.settings))
    values: dict[str, object] = {
        "name": name,
        "panel_url": mtg.url,
        "username": mtg.username,
        "password": mtg.password,
    }
    return await service.add(parse_mtg_input(values))


async def proxy_plan(ctx: AppContext, days: int = 30, price: str = "99.00") -> Plan:
    async with ctx.sessions() as session, session.begin():
        row = Plan(
            name="Прокси", name_en="Proxy", duration_days=days, price=Decimal(price), currency="RUB",
            price_stars=50, product=Product.PROXY,
        )  # fmt: skip
        session.add(row)
    return row


async def proxy_row(ctx: AppContext, sub_id: int) -> ProxyClient | None:
    async with ctx.sessions() as session:
        from sqlalchemy import select

        return await session.scalar(select(ProxyClient).where(ProxyClient.subscription_id == sub_id))


async def subscription(ctx: AppContext, sub_id: int) -> Subscription:
    async with ctx.sessions() as session:
        found = await session.get(Subscription, sub_id)
    assert found is not None
    return found
