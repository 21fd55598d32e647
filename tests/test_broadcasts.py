"""Broadcasts below the bot: the URL button check, the snapshot and claims on SQLite and PostgreSQL,
and BroadcastWorkflow on the real Temporal server sending to the Telegram sandbox: continuing as
new on long runs, Stop, and a worker SIGKILLed mid-broadcast sending every copy exactly once."""

from __future__ import annotations

import asyncio
import signal

import pytest
from sqlalchemy import func, select
from temporalio.client import Client

from activities.broadcasts import SEND_CONCURRENCY
from sandbox.telegram import TelegramSandbox
from shop.context import AppContext
from shop.customers.accounts import register_user
from shop.customers.admin import set_banned
from shop.customers.users import mark_bot_blocked
from shop.db import SessionFactory
from shop.messaging import broadcasts
from shop.messaging.broadcast_control import (
    BadButton,
    BroadcastControl,
    StartOutcome,
    StopOutcome,
    UrlButton,
    parse_button,
)
from shop.models import BroadcastDelivery, BroadcastStatus, DeliveryStatus, utcnow
from shop.runtime.temporal import EmbeddedTemporal
from shop.transitions import TransitionRefused
from tests.conftest import Database, make_context
from tests.polling import eventually
from tests.telegram_fixtures import telegram_settings
from tests.worker_process import worker_env, worker_process
from workflows.broadcast import BroadcastInput, BroadcastWorkflow, broadcast_workflow_id

OPERATOR = 900


@pytest.mark.parametrize(
    ("raw", "button"),
    [
        ("Shop | https://shop.example", UrlButton("Shop", "https://shop.example")),
        (
            "  Скидки  |  https://магазин.example/a?b=c#d ",
            UrlButton("Скидки", "https://магазин.example/a?b=c#d"),
        ),
        ("Sale|https://xn--80aa0a.xn--p1ai/path", UrlButton("Sale", "https://xn--80aa0a.xn--p1ai/path")),
        (
            "A | https://sub.shop.example:8443/x",
            UrlButton("A", "https://sub.shop.example:8443/x"),
        ),
    ],
)
def test_parse_button_accepts_https_links_to_real_hosts(raw: str, button: UrlButton) -> None:
    assert parse_button(raw) == button


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("just text", "bc_button_format"),
        ("| https://shop.example", "bc_button_format"),
        ("Shop |", "bc_button_format"),
        ("x" * 65 + " | https://shop.example", "bc_button_text_long"),
        ("Shop | http://shop.example", "bc_button_url"),
        ("Shop | https://", "bc_button_url"),
        ("Shop | https://localhost/", "bc_button_url"),
        ("Shop | https://10.0.0.1/", "bc_button_url"),
        ("Shop | https://shop.example:port/", "bc_button_url"),
        ("Shop | https://shop .example/", "bc_button_url"),
        ("Shop | tg://resolve?domain=x", "bc_button_url"),
        ("Shop | javascript:alert(1)", "bc_button_url"),
    ],
)
def test_parse_button_explains_what_is_wrong(raw: str, key: str) -> None:
    with pytest.raises(BadButton) as refused:
        parse_button(raw)
    assert refused.value.key == key


async def _users(sessions: SessionFactory, ids: range) -> None:
    for user_id in ids:
        await register_user(sessions, user_id, None, f"User{user_id}")


async def _rows(db: Database, broadcast_id: str) -> list[tuple[int, DeliveryStatus]]:
    async with db.sessions() as session:
        found = await session.execute(
            select(BroadcastDelivery.user_id, BroadcastDelivery.status)
            .where(BroadcastDelivery.broadcast_id == broadcast_id)
            .order_by(BroadcastDelivery.user_id)
        )
        return [(user_id, status) for user_id, status in found]


async def test_snapshot_once_with_banned_and_blocked_left_out(db: Database) -> None:
    await _users(db.sessions, range(1, 7))
    await set_banned(db.sessions, 2, True)
    await mark_bot_blocked(db.sessions, 3, utcnow())
    await set_banned(db.sessions, 4, True)
    await mark_bot_blocked(db.sessions, 4, utcnow())  # banned and blocked: counted once, as banned
    assert await broadcasts.reachable_users(db.sessions) == 3
    broadcast_id = await broadcasts.create_draft(db.sessions, OPERATOR, OPERATOR, 7, None, None)
    assert await broadcasts.snapshot_of(db.sessions, broadcast_id) is None
    first = await broadcasts.take_snapshot(db.sessions, broadcast_id, utcnow())
    assert first is not None and (first.total, first.skipped_banned, first.known_blocked) == (6, 2, 1)
    assert first.recipients == 3
    assert await _rows(db, broadcast_id) == [
        (1, DeliveryStatus.PENDING),
        (5, DeliveryStatus.PENDING),
        (6, DeliveryStatus.PENDING),
    ]
    # A retried start (the activity ran, its answer was lost) takes nothing new, newcomers included.
    await _users(db.sessions, range(7, 9))
    assert await broadcasts.take_snapshot(db.sessions, broadcast_id, utcnow()) == first
    assert len(await _rows(db, broadcast_id)) == 3

    assert await broadcasts.batch(db.sessions, broadcast_id, 0, 2) == [
        (1, DeliveryStatus.PENDING),
        (5, DeliveryStatus.PENDING),
    ]
    assert await broadcasts.batch(db.sessions, broadcast_id, 5, 2) == [(6, DeliveryStatus.PENDING)]
    now = utcnow()
    await broadcasts.record(db.sessions, broadcast_id, 1, DeliveryStatus.SENT, now)
    await broadcasts.record(db.sessions, broadcast_id, 1, DeliveryStatus.FAILED, now, "late")  # recorded once
    await broadcasts.record(db.sessions, broadcast_id, 5, DeliveryStatus.BLOCKED, now, "Forbidden")
    assert await broadcasts.outcomes(db.sessions, broadcast_id) == broadcasts.Outcomes(
        sent=1, blocked=1, pending=1
    )

    assert (
        await broadcasts.transition(db.sessions, broadcast_id, BroadcastStatus.FINISHED)
        is BroadcastStatus.RUNNING
    )
    with pytest.raises(TransitionRefused):
        await broadcasts.transition(db.sessions, broadcast_id, BroadcastStatus.CANCELED)


async def test_a_draft_cancelled_before_its_start_sends_nothing(db: Database) -> None:
    await _users(db.sessions, range(1, 3))
    broadcast_id = await broadcasts.create_draft(
        db.sessions, OPERATOR, OPERATOR, 7, "Go", "https://a.example"
    )
    await broadcasts.transition(db.sessions, broadcast_id, BroadcastStatus.CANCELED)
    assert await broadcasts.take_snapshot(db.sessions, broadcast_id, utcnow()) is None
    assert await _rows(db, broadcast_id) == []


async def _audience(ctx: AppContext, telegram: TelegramSandbox, ids: range) -> int:
    """Registered customers and an operator who wrote the message to broadcast; its message id."""
    for user_id in (OPERATOR, *ids):
        telegram.add_user(user_id, f"User{user_id}", language_code="en")
        await register_user(ctx.sessions, user_id, None, f"User{user_id}", language="en")
    await telegram.send_text(OPERATOR, "📢 Maintenance tonight at 02:00 UTC")
    return telegram.world.chats[OPERATOR][-1].message_id


def _copies(telegram: TelegramSandbox, user_id: int) -> int:
    return len([m for m in telegram.messages(user_id) if (m.text or "").startswith("📢 Maintenance")])


async def _continued(client: Client, workflow_id: str) -> int:
    """How many runs continued as new before the current one (each hands its history over)."""
    count, run_id = 0, (await client.get_workflow_handle(workflow_id).describe()).run_id
    while True:
        history = await client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history()
        started = history.events[0].workflow_execution_started_event_attributes
        if not started.continued_execution_run_id:
            return count
        count, run_id = count + 1, started.continued_execution_run_id


async def test_a_long_broadcast_continues_as_new_and_reaches_everyone_once(
    telegram_shop: AppContext, telegram: TelegramSandbox, temporal_client: Client
) -> None:
    users = range(1, 24)
    message_id = await _audience(telegram_shop, telegram, users)
    broadcast_id = await broadcasts.create_draft(
        telegram_shop.sessions, OPERATOR, OPERATOR, message_id, "Status", "https://status.example"
    )
    handle = await temporal_client.start_workflow(
        BroadcastWorkflow.run,
        BroadcastInput(broadcast_id=broadcast_id, batch_size=4, batches_per_run=2),
        id=broadcast_workflow_id(broadcast_id),
        task_queue=telegram_shop.settings.temporal_task_queue,
    )
    final = await handle.result()
    assert (final.state, final.total, final.recipients, final.sent, final.left) == ("finished", 24, 24, 24, 0)
    assert await handle.query(BroadcastWorkflow.progress) == final
    # 24 recipients, 4 a batch, 2 batches a run: 3 runs.
    assert await _continued(temporal_client, handle.id) == 2
    assert [_copies(telegram, user) for user in (OPERATOR, *users)] == [1] * 24  # the operator too
    assert telegram.messages(5)[0].buttons == [{"text": "Status", "url": "https://status.example"}]
    reports = [m.text for m in telegram.messages(OPERATOR) if (m.text or "").startswith("📣")]
    assert reports == [
        "📣 Broadcast finished\n\nSent: 24\nNot delivered: 0\nBlocked the bot: 0\nSkipped (banned): 0"
    ]


async def test_stop_ends_a_running_broadcast_within_the_batch_under_way(
    telegram_shop: AppContext, telegram: TelegramSandbox
) -> None:
    users = range(1, 40)
    message_id = await _audience(telegram_shop, telegram, users)
    control = BroadcastControl(telegram_shop)
    broadcast_id = await broadcasts.create_draft(
        telegram_shop.sessions, OPERATOR, OPERATOR, message_id, None, None
    )
    assert await control.stop(OPERATOR + 1, broadcast_id) is StopOutcome.UNKNOWN  # another operator's
    telegram.flood_wait(after=3, seconds=3)
    assert await control.start(OPERATOR, broadcast_id) is StartOutcome.STARTED
    assert await control.start(OPERATOR, broadcast_id) is StartOutcome.ALREADY
    await telegram.wait_for(lambda: sum(_copies(telegram, user) for user in users) >= 3)
    assert await control.stop(OPERATOR, broadcast_id) is StopOutcome.STOPPING
    report = await telegram.wait_for(
        lambda: [m.text for m in telegram.messages(OPERATOR) if "stopped" in (m.text or "")], 60
    )
    sent = sum(_copies(telegram, user) for user in users)
    # One batch of 100 holds everyone: Stop ends it midway; only copies already on their way still go.
    assert 3 <= sent <= 3 + SEND_CONCURRENCY
    assert report == [
        f"📣 Broadcast stopped\n\nSent: {sent}\nNot sent: {40 - sent}\nNot delivered: 0\n"
        "Blocked the bot: 0\nSkipped (banned): 0"
    ]
    assert await control.stop(OPERATOR, broadcast_id) is StopOutcome.OVER
    assert (
        await broadcasts.get_draft(telegram_shop.sessions, broadcast_id)
    ).status is BroadcastStatus.CANCELED  # type: ignore[union-attr]


async def _recorded(ctx: AppContext) -> int:
    async with ctx.sessions() as session:
        sent = await session.scalar(
            select(func.count())
            .select_from(BroadcastDelivery)
            .where(BroadcastDelivery.status == DeliveryStatus.SENT)
        )
    return int(sent or 0)


async def test_worker_killed_mid_broadcast_sends_every_copy_exactly_once(
    sqlite_db: Database,
    temporal_client: Client,
    temporal_server: EmbeddedTemporal,
    task_queue: str,
    telegram: TelegramSandbox,
) -> None:
    ctx = make_context(sqlite_db, temporal_client, task_queue, **telegram_settings(telegram))
    users = range(1, 80)
    message_id = await _audience(ctx, telegram, users)
    broadcast_id = await broadcasts.create_draft(ctx.sessions, OPERATOR, OPERATOR, message_id, None, None)
    telegram.flood_wait(after=30, seconds=8)
    env = worker_env(ctx.settings, temporal_server, TELEGRAM_MESSAGES_PER_SECOND="30")
    worker = worker_process(env)
    try:
        assert await BroadcastControl(ctx).start(OPERATOR, broadcast_id) is StartOutcome.STARTED
        # The 31st copy meets the flood wait: the worker pauses with 30 copies out and recorded.
        await telegram.wait_for(lambda: len(telegram.calls("copyMessage")) > 30, seconds=60)
        await eventually(lambda: _recorded_is(ctx, 30))
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        assert sum(_copies(telegram, user) for user in (OPERATOR, *users)) == 30
        worker = worker_process(env)
        handle = temporal_client.get_workflow_handle_for(
            BroadcastWorkflow.run, broadcast_workflow_id(broadcast_id)
        )
        async with asyncio.timeout(90):
            final = await handle.result()
    finally:
        worker.kill()
        worker.wait()
    assert [_copies(telegram, user) for user in (OPERATOR, *users)] == [1] * 80
    assert (final.sent, final.left, await _recorded(ctx)) == (80, 0, 80)
    reports = [m for m in telegram.messages(OPERATOR) if (m.text or "").startswith("📣 Broadcast finished")]
    assert len(reports) == 1


async def _recorded_is(ctx: AppContext, count: int) -> bool:
    return await _recorded(ctx) == count
