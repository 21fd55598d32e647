"""Running the shop: `up` (everything on one machine: the API and the bots in its own process, the
worker in it or in WORKER_PROCESSES processes beside it) and one role per process for scaled setups."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import signal
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from typing import Any

import uvicorn

from shop.context import AppContext
from shop.metrics.counters import worker_counters
from shop.runtime import preflight
from shop.runtime.migrate import upgrade
from shop.runtime.temporal import EmbeddedTemporal, connect, ensure_retention
from shop.settings import Settings

log = logging.getLogger("vpnshop")

Role = Callable[[AppContext, asyncio.Event], Coroutine[Any, Any, None]]


class _Server(uvicorn.Server):
    # Signals belong to the whole process (worker, bot, Temporal), not to uvicorn alone.
    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def _serve(app: Any, host: str, port: int, stop: asyncio.Event, what: str) -> None:
    from api.server import server_config

    server = _Server(server_config(app, host, port))
    serving = asyncio.create_task(server.serve())
    stopped = asyncio.create_task(stop.wait())
    await asyncio.wait({serving, stopped}, return_when=asyncio.FIRST_COMPLETED)
    server.should_exit = True
    await serving
    if not server.started:
        raise RuntimeError(f"{what} could not listen on {host}:{port}")
    log.info("%s stopped", what)


async def run_api(ctx: AppContext, stop: asyncio.Event) -> None:
    from api.app import create_app

    await _serve(create_app(ctx), ctx.settings.api_host, ctx.settings.api_port, stop, "the API")


async def run_worker_metrics(ctx: AppContext, stop: asyncio.Event) -> None:
    """The worker's own /metrics (WORKER_METRICS_PORT), when it runs without the API beside it."""
    from api.metrics import metrics_app

    port = ctx.settings.worker_metrics_port
    if port is not None:
        await _serve(metrics_app(ctx), ctx.settings.api_host, port, stop, "the worker's /metrics")


async def run_worker(ctx: AppContext, stop: asyncio.Event) -> None:
    from worker.main import run_worker as run

    await run(ctx, stop)


async def run_bot(ctx: AppContext, stop: asyncio.Event) -> None:
    if ctx.settings.telegram_bot_token is None:
        log.info("bot disabled: set TELEGRAM_BOT_TOKEN (from @BotFather) in .env to enable it")
        return
    from bot.main import run_bot as run

    await run(ctx, stop)


async def run_support(ctx: AppContext, stop: asyncio.Event) -> None:
    from bot.support.main import run_support as run

    await run(ctx, stop)


def _stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)


@contextlib.asynccontextmanager
async def _temporal(settings: Settings) -> AsyncIterator[str]:
    if not settings.embedded_temporal:
        yield settings.temporal_target
        return
    server = EmbeddedTemporal(
        port=settings.temporal_port,
        ui_port=settings.temporal_ui_port,
        namespace=settings.temporal_namespace,
        db_file=settings.data_dir / "temporal.db",
        log_file=settings.data_dir / "temporal.log",
    )
    server.spawn()
    await asyncio.to_thread(server.wait_ready)
    log.info("Temporal dev server on %s, Web UI %s", server.address, settings.temporal_web)
    try:
        yield server.address
    finally:
        await asyncio.to_thread(server.stop)
        log.info("Temporal dev server stopped")


async def run_roles(
    settings: Settings, roles: list[Role], migrate: bool, stop: asyncio.Event | None = None
) -> None:
    """Start Temporal (embedded unless TEMPORAL_ADDRESS is set), then the roles, until a signal."""
    stop = stop or asyncio.Event()
    _stop_on_signals(stop)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if migrate:
        await upgrade(settings.db_url)
        log.info("database migrated: %s", settings.db_url.split("@")[-1])
    async with _temporal(settings) as address:
        client = await connect(address, settings.temporal_namespace)
        if settings.embedded_temporal:
            await ensure_retention(client, settings.temporal_retention_days)
        ctx = AppContext.open(settings, client)
        tasks = [asyncio.create_task(role(ctx, stop)) for role in roles]
        try:
            # A role that fails brings the others down too, so a half-running shop never hides.
            await asyncio.wait(
                [*tasks, asyncio.create_task(stop.wait())], return_when=asyncio.FIRST_EXCEPTION
            )
        finally:
            stop.set()
            results = await asyncio.gather(*tasks, return_exceptions=True)
            await ctx.close()
        for result in results:
            if isinstance(result, BaseException):
                raise result


async def up(settings: Settings, stop: asyncio.Event | None = None) -> None:
    preflight.require_public_url(settings)
    with preflight.claim(settings):
        if settings.embedded_temporal:
            log.info("starting vpnshop: API %s, Temporal UI %s", settings.base_url, settings.temporal_web)
        # Counters restart with the shop, as in one process; `up` without worker processes has none.
        shutil.rmtree(worker_counters(settings.data_dir), ignore_errors=True)
        workers: Role = run_worker
        if settings.worker_process_count:
            from shop.runtime.worker_processes import run_worker_processes

            workers = run_worker_processes
        await run_roles(settings, [workers, run_api, run_bot, run_support], migrate=True, stop=stop)
