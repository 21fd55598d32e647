"""A sandbox Telegram Bot API and a shop whose worker sends through it (reminders, broadcasts)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from temporalio.client import Client, WorkflowHandle

from bot.main import build_bot
from sandbox.telegram import TelegramSandbox
from shop.context import AppContext
from tests.conftest import Database, make_context
from worker.main import build_worker


@pytest.fixture
async def telegram() -> AsyncIterator[TelegramSandbox]:
    async with TelegramSandbox() as sandbox:
        yield sandbox


def telegram_settings(telegram: TelegramSandbox) -> dict[str, object]:
    return {"telegram_bot_token": telegram.token, "telegram_api_url": telegram.api_url}


@pytest.fixture
async def telegram_shop(
    sqlite_db: Database, temporal_client: Client, task_queue: str, telegram: TelegramSandbox
) -> AsyncIterator[AppContext]:
    ctx = make_context(sqlite_db, temporal_client, task_queue, **telegram_settings(telegram))
    bot = build_bot(ctx.settings)
    async with build_worker(ctx, temporal_client, bot=bot):
        yield ctx
    await bot.session.close()


async def send_queues(handle: WorkflowHandle[Any, Any], activity_type: str) -> list[str]:
    """The task queue of each `activity_type` activity a run scheduled (where it was sent from)."""
    history = await handle.fetch_history()
    return [
        event.activity_task_scheduled_event_attributes.task_queue.name
        for event in history.events
        if event.HasField("activity_task_scheduled_event_attributes")
        and event.activity_task_scheduled_event_attributes.activity_type.name == activity_type
    ]
