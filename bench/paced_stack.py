"""The stack the Telegram-pace benchmarks run on: a SQLite shop with N customers, the embedded
Temporal dev server, a sandbox Bot API that answers 429 beyond 30 messages a second, and a worker
sending through it. Shared by `bench.expiry_bench` and `bench.broadcast_bench`."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

from sqlalchemy import insert

from bot.main import build_bot
from sandbox.telegram import TelegramSandbox
from shop.context import AppContext
from shop.db import create_engine, session_factory
from shop.models import User
from shop.runtime.migrate import upgrade
from shop.runtime.temporal import EmbeddedTemporal, connect, free_port
from shop.settings import load_settings
from worker.main import build_worker

TASK_QUEUE = "bench"
TELEGRAM_LIMIT = 30  # messages per second over all chats, as Telegram documents


@contextlib.asynccontextmanager
async def paced_stack(customers: range) -> AsyncIterator[tuple[AppContext, TelegramSandbox]]:
    """Yields once the worker polls; the customers exist in the database and in the sandbox."""
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        await upgrade(url)
        engine = create_engine(url)
        async with engine.begin() as connection:
            await connection.execute(insert(User), [{"id": i, "full_name": f"user{i}"} for i in customers])
        server = EmbeddedTemporal(free_port(), None, "vpnshop")
        server.start()
        try:
            async with TelegramSandbox() as telegram:
                telegram.set_rate_limit(TELEGRAM_LIMIT)
                for user_id in customers:
                    telegram.add_user(user_id, "u")
                client = await connect(server.address, "vpnshop")
                settings = load_settings(
                    _env_file=None,
                    database_url=url,
                    temporal_address=server.address,
                    temporal_task_queue=TASK_QUEUE,
                    telegram_bot_token=telegram.token,
                    telegram_api_url=telegram.api_url,
                )
                ctx = AppContext(settings, engine, session_factory(engine), client)
                bot = build_bot(settings)
                try:
                    async with build_worker(ctx, client, bot=bot):
                        yield ctx, telegram
                finally:
                    await bot.session.close()
        finally:
            server.stop()
            await engine.dispose()


def print_pace(
    ctx: AppContext, what: str, sent: int, elapsed: float, per_chat: list[int], refused: int
) -> None:
    """per_chat: how many of the messages each customer got; refused: calls answered 429."""
    pacing = ctx.settings.telegram_messages_per_second
    print(
        f"  sent {sent:,} in {elapsed:.1f} s: {sent / elapsed:.1f} {what}/s "
        f"(limit {TELEGRAM_LIMIT}/s, pacing set to {pacing:g}/s)"
    )
    duplicates = sum(n - 1 for n in per_chat if n > 1)
    print(f"  429 answers: {refused}, duplicates: {duplicates}, lost: {per_chat.count(0)}")
