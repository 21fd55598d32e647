"""The proxy's expiry reminders: on its own expiry, once per mark, beside the VPN's own cycle, in
the customer's language, with a renew button opening the proxy's screen; a renewal starts a fresh
cycle."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from temporalio.client import Client

from bot.callbacks import Nav, Screen
from sandbox.telegram import TelegramSandbox
from shop.access import ledger
from shop.context import AppContext
from shop.customers.accounts import ensure_subscription, register_user
from shop.models import GrantKind, Product, Reminder
from workflows.expiry import ExpiryScanInput, ExpiryScanReport, ExpiryScanWorkflow

NOW = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)
MONTH = timedelta(days=30)


async def _scan(ctx: AppContext, client: Client, now: datetime) -> ExpiryScanReport:
    return await client.execute_workflow(
        ExpiryScanWorkflow.run,
        ExpiryScanInput(now=now),
        id=f"expiry-scan:{ctx.settings.temporal_task_queue}:{now.isoformat()}",
        task_queue=ctx.settings.temporal_task_queue,
    )


async def test_the_proxy_has_its_own_reminders(
    telegram_shop: AppContext, telegram: TelegramSandbox, temporal_client: Client
) -> None:
    ctx = telegram_shop
    for user_id, lang in ((1, "en"), (2, "ru")):
        telegram.add_user(user_id, f"User{user_id}", language_code=lang)
        await register_user(ctx.sessions, user_id, None, f"User{user_id}", language=lang)
    both = await ensure_subscription(ctx.sessions, 1)
    only_proxy = await ensure_subscription(ctx.sessions, 2)
    start = NOW + timedelta(hours=20) - MONTH  # ends in 20 h: the -24h mark
    await ledger.grant(ctx.sessions, both.id, "vpn:1", MONTH, GrantKind.PURCHASE, "t", start)
    await ledger.grant(ctx.sessions, both.id, "proxy:1", MONTH, GrantKind.PURCHASE, "t", start, Product.PROXY)
    await ledger.grant(
        ctx.sessions, only_proxy.id, "proxy:2", MONTH, GrantKind.PURCHASE, "t", start, Product.PROXY
    )

    report = await _scan(ctx, temporal_client, NOW)
    assert (report.claimed, report.sent) == (3, 3)
    english = [m.text or "" for m in telegram.messages(1)]
    assert sorted(text.split(" ends")[0] for text in english) == [
        "⏳ Your Telegram proxy",
        "⏳ Your VPN subscription",
    ]
    [russian] = telegram.messages(2)
    assert (russian.text or "").startswith("⏳ Ваш Telegram Proxy заканчивается")
    assert russian.buttons[0]["callback_data"] == Nav(to=Screen.PROXY).pack()
    again = await _scan(ctx, temporal_client, NOW + timedelta(minutes=5))
    assert again.claimed == 0 and len(telegram.messages(2)) == 1  # each mark once

    await ledger.grant(
        ctx.sessions, only_proxy.id, "proxy:2b", MONTH, GrantKind.PURCHASE, "t", NOW, Product.PROXY
    )
    later = NOW + MONTH + timedelta(hours=4)  # 20 h before the renewed expiry: a fresh cycle
    assert (await _scan(ctx, temporal_client, later)).sent == 1
    async with ctx.sessions() as session:
        marks = sorted(
            await session.scalars(select(Reminder.mark).where(Reminder.subscription_id == only_proxy.id))
        )
    assert marks == ["proxy-24h", "proxy-24h"]
