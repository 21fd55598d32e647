"""Reminders end to end: the scan workflow on the real Temporal server, sending to the sandbox
Telegram Bot API over HTTP, with its limits, blocked users, and a worker killed mid-batch."""

from __future__ import annotations

import asyncio
import signal
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from temporalio.client import Client

from sandbox.telegram import TelegramSandbox
from shop.access import ledger
from shop.context import AppContext
from shop.customers.accounts import ensure_subscription, register_user
from shop.models import GrantKind, Reminder, ReminderStatus, User
from shop.runtime.temporal import EmbeddedTemporal
from tests.conftest import Database, make_context
from tests.polling import eventually
from tests.telegram_fixtures import telegram_settings
from tests.worker_process import worker_env, worker_process
from workflows.expiry import ExpiryScanInput, ExpiryScanReport, ExpiryScanWorkflow

NOW = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


async def _customer(
    ctx: AppContext,
    telegram: TelegramSandbox,
    user_id: int,
    left: timedelta,
    paid: bool = True,
    lang: str = "ru",
) -> int:
    telegram.add_user(user_id, f"User{user_id}", language_code=lang)
    await register_user(ctx.sessions, user_id, None, f"User{user_id}", language=lang)
    sub = await ensure_subscription(ctx.sessions, user_id)
    kind = GrantKind.PURCHASE if paid else GrantKind.TRIAL
    await ledger.grant(
        ctx.sessions, sub.id, f"src:{user_id}", timedelta(days=30), kind, "t", NOW + left - timedelta(days=30)
    )
    return sub.id


async def _scan(ctx: AppContext, now: datetime) -> ExpiryScanReport:
    assert ctx.temporal is not None
    return await ctx.temporal.execute_workflow(
        ExpiryScanWorkflow.run,
        ExpiryScanInput(now=now),
        id=f"expiry-scan:{ctx.settings.temporal_task_queue}:{now.isoformat()}",
        task_queue=ctx.settings.temporal_task_queue,
    )


async def test_each_mark_is_sent_once_in_the_users_language_with_a_renew_button(
    telegram_shop: AppContext, telegram: TelegramSandbox
) -> None:
    await _customer(telegram_shop, telegram, 1, 70 * HOUR)  # -72h mark
    await _customer(telegram_shop, telegram, 2, 20 * HOUR, lang="en")  # -24h
    await _customer(telegram_shop, telegram, 3, 30 * 60 * timedelta(seconds=1))  # -1h
    await _customer(telegram_shop, telegram, 4, -HOUR)  # at expiry
    await _customer(telegram_shop, telegram, 5, -25 * HOUR)  # win-back
    await _customer(telegram_shop, telegram, 6, 20 * HOUR, paid=False)  # trial -24h
    await _customer(telegram_shop, telegram, 7, 10 * 24 * HOUR)  # nothing due

    report = await _scan(telegram_shop, NOW)
    assert (report.claimed, report.sent, report.failed, report.blocked) == (6, 6, 0, 0)
    texts = {user: [m.text or "" for m in telegram.messages(user)] for user in range(1, 8)}
    assert "осталось 70 ч" in texts[1][0] or "осталось 3 дн." in texts[1][0]
    assert texts[2] == [texts[2][0]] and "Your VPN subscription ends" in texts[2][0]
    assert "осталось 1 ч" in texts[3][0]
    assert "подписка закончилась" in texts[4][0]
    assert "Мы скучаем" in texts[5][0]
    assert "Пробный период закончится" in texts[6][0]
    assert texts[7] == []
    assert telegram.last(2).button_texts == ["➕ Renew subscription"]
    assert telegram.last(1).button_texts == ["➕ Продлить подписку"]

    again = await _scan(telegram_shop, NOW + timedelta(minutes=5))
    assert (again.claimed, again.sent) == (0, 0)
    assert sum(len(telegram.messages(user)) for user in range(1, 8)) == 6


async def test_renewal_resets_the_cycle_and_expired_access_gets_one_message_per_mark(
    telegram_shop: AppContext, telegram: TelegramSandbox
) -> None:
    sub = await _customer(telegram_shop, telegram, 1, 20 * HOUR)
    assert (await _scan(telegram_shop, NOW)).sent == 1
    await ledger.grant(
        telegram_shop.sessions, sub, "payment:renew", timedelta(days=30), GrantKind.PURCHASE, "t", NOW
    )
    assert (await _scan(telegram_shop, NOW + HOUR)).sent == 0
    # The new expiry's own marks come in turn, each once.
    new_expiry = NOW + 20 * HOUR + timedelta(days=30)
    for moment in (new_expiry - 71 * HOUR, new_expiry - 23 * HOUR, new_expiry - 23 * HOUR, new_expiry):
        await _scan(telegram_shop, moment)
    assert len(telegram.messages(1)) == 4  # -24h (old cycle), then -72h, -24h, 0h of the new one


async def test_a_user_who_blocked_the_bot_is_recorded_and_not_retried(
    telegram_shop: AppContext, telegram: TelegramSandbox
) -> None:
    await _customer(telegram_shop, telegram, 1, 20 * HOUR)
    await _customer(telegram_shop, telegram, 2, 20 * HOUR)
    telegram.block(1)
    report = await _scan(telegram_shop, NOW)
    assert (report.sent, report.blocked) == (1, 1)
    async with telegram_shop.sessions() as session:
        blocked = await session.get(User, 1)
        assert blocked is not None and blocked.bot_blocked_at is not None
    attempts = len(telegram.calls("sendMessage"))
    later = await _scan(telegram_shop, NOW + 20 * HOUR)  # the -1h mark
    assert (later.sent, later.blocked) == (1, 0)
    assert len(telegram.calls("sendMessage")) == attempts + 1, "a blocked user must not be retried"


async def test_sends_keep_telegrams_pace_without_drops_or_repeats(
    telegram_shop: AppContext, telegram: TelegramSandbox
) -> None:
    for user_id in range(1, 91):
        await _customer(telegram_shop, telegram, user_id, 20 * HOUR)
    telegram.set_rate_limit(30)
    telegram.flood_wait(after=40, seconds=2)  # a FLOOD_WAIT in the middle of the batch
    report = await _scan(telegram_shop, NOW)
    assert report.sent == 90
    assert all(len(telegram.messages(user_id)) == 1 for user_id in range(1, 91))
    assert len(telegram.calls("sendMessage")) > 90, "the flood wait should have answered 429s"


async def _sent_count(telegram: TelegramSandbox, users: range) -> int:
    return sum(len(telegram.messages(user_id)) for user_id in users)


async def _recorded(ctx: AppContext) -> int:
    async with ctx.sessions() as session:
        sent = await session.scalar(
            select(func.count()).select_from(Reminder).where(Reminder.status == ReminderStatus.SENT)
        )
    return int(sent or 0)


async def _is_recorded(ctx: AppContext, count: int) -> bool:
    return await _recorded(ctx) == count


async def test_worker_killed_mid_batch_sends_every_reminder_exactly_once(
    sqlite_db: Database,
    temporal_client: Client,
    temporal_server: EmbeddedTemporal,
    task_queue: str,
    telegram: TelegramSandbox,
) -> None:
    ctx = make_context(sqlite_db, temporal_client, task_queue, **telegram_settings(telegram))
    users = range(1, 61)
    for user_id in users:
        await _customer(ctx, telegram, user_id, 20 * HOUR)
    telegram.flood_wait(after=25, seconds=8)
    env = worker_env(ctx.settings, temporal_server, TELEGRAM_MESSAGES_PER_SECOND="30")
    worker = worker_process(env)
    try:
        handle = await temporal_client.start_workflow(
            ExpiryScanWorkflow.run,
            ExpiryScanInput(now=NOW),
            id=f"expiry-scan:{task_queue}",
            task_queue=task_queue,
        )
        # The 26th send meets the flood wait: the worker pauses with 25 reminders out and recorded.
        await telegram.wait_for(lambda: len(telegram.calls("sendMessage")) > 25, seconds=60)
        await eventually(lambda: _is_recorded(ctx, 25))
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        assert await _sent_count(telegram, users) == 25
        worker = worker_process(env)
        async with asyncio.timeout(90):
            await handle.result()
    finally:
        worker.kill()
        worker.wait()
    assert [len(telegram.messages(user_id)) for user_id in users] == [1] * 60
    assert await _recorded(ctx) == 60
