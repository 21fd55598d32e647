"""A `vpnshop worker` process of the test's own, for tests that SIGKILL it mid-work."""

from __future__ import annotations

import os
import subprocess
import sys

from sandbox.telegram import TelegramSandbox
from shop.context import AppContext
from shop.temporal import EmbeddedTemporal
from tests.conftest import NAMESPACE


def worker_process(
    ctx: AppContext, server: EmbeddedTemporal, telegram: TelegramSandbox
) -> subprocess.Popen[bytes]:
    """On the test's task queue and database, sending to the Telegram sandbox."""
    env = dict(os.environ)
    env.update(
        TEMPORAL_ADDRESS=server.address,
        TEMPORAL_NAMESPACE=NAMESPACE,
        TEMPORAL_TASK_QUEUE=ctx.settings.temporal_task_queue,
        DATABASE_URL=ctx.settings.db_url,
        TELEGRAM_BOT_TOKEN=telegram.token,
        TELEGRAM_API_URL=telegram.api_url,
        TELEGRAM_MESSAGES_PER_SECOND="30",
    )
    return subprocess.Popen([sys.executable, "-m", "shop.cli", "worker"], env=env, stdout=subprocess.DEVNULL)
