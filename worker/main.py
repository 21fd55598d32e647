"""The worker process: registers every workflow and activity on the shop's task queue, and the
one-message Telegram activities on the bot's paced queue beside it (`shop.messaging.pacing`)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import importlib.util
import logging
import py_compile
import sys
import tempfile
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from aiogram import Bot
from temporalio.client import Client
from temporalio.worker import UnsandboxedWorkflowRunner, Worker, WorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

import workflows
from activities.broadcasts import BroadcastActivities
from activities.ledger import LedgerActivities
from activities.lifecycle import LifecycleActivities
from activities.operators import OperatorActivities
from activities.panels import PanelActivities
from activities.payments import PaymentActivities
from activities.proxy import ProxyActivities
from activities.purposes import PurposeActivities
from activities.referrals import ReferralActivities
from activities.refunds import RefundActivities, RefundLookup
from activities.reminders import ReminderActivities
from activities.sales import SalesDigestActivities
from activities.sweeper import SweepActivities
from activities.telegram import TelegramActivities
from bot.gateway import TelegramGateway
from bot.main import build_bot
from shop.context import AppContext
from shop.messaging.pacing import RateLimiter, telegram_queue
from shop.payments.registry import build_providers
from shop.payments.star_transactions import StarTransactions
from worker.liveness import Liveness
from worker.schedules import ensure_schedules
from workflows.broadcast import BroadcastWorkflow
from workflows.expiry import CloseEndedAccessWorkflow, ExpiryScanWorkflow, ReminderCleanupWorkflow
from workflows.grant import GrantAccessWorkflow
from workflows.operator import CustomerNoticeWorkflow, ResolveReviewWorkflow
from workflows.payment import PaymentWorkflow
from workflows.provision import ProvisionSubscriptionWorkflow
from workflows.proxy import GrantProxyWorkflow, ProvisionProxyWorkflow, ProxyUpkeepWorkflow
from workflows.reconcile import ReconcilePanelsWorkflow
from workflows.refund import RefundChargeWorkflow, RefundWorkflow
from workflows.sales_digest import SalesDigestWorkflow
from workflows.sweeper import PaymentSweepWorkflow

log = logging.getLogger(__name__)

WORKFLOWS: list[type] = [
    GrantAccessWorkflow,
    ProvisionSubscriptionWorkflow,
    ReconcilePanelsWorkflow,
    PaymentWorkflow,
    RefundWorkflow,
    RefundChargeWorkflow,
    PaymentSweepWorkflow,
    ExpiryScanWorkflow,
    CloseEndedAccessWorkflow,
    ReminderCleanupWorkflow,
    BroadcastWorkflow,
    ProvisionProxyWorkflow,
    ProxyUpkeepWorkflow,
    GrantProxyWorkflow,
    SalesDigestWorkflow,
    ResolveReviewWorkflow,
    CustomerNoticeWorkflow,
]

# Our own modules hold only models and pure helpers on the workflow side: passing them through
# keeps the sandbox from re-importing SQLAlchemy, pydantic and aiogram for every run. The
# workflows' own message modules (pydantic models, ids) pass through too: a model class built
# afresh in every run's sandbox costs more CPU than the run's own steps. The modules holding
# workflow code stay sandboxed, so its determinism checks stay on.
PASSTHROUGH = (
    "shop",
    "activities",
    "bot",
    "pydantic",
    "sqlalchemy",
    "aiogram",
    "workflows.payment_messages",
    "workflows.provision_messages",
)


def _stale(source: Path) -> bool:
    """No bytecode for this source, or older than it (an installed package usually has it)."""
    cached = Path(importlib.util.cache_from_source(str(source)))
    return not cached.exists() or cached.stat().st_mtime < source.stat().st_mtime


def compile_workflow_modules() -> None:
    """The sandbox imports each run's workflow modules afresh. Where bytecode is not written
    (PYTHONDONTWRITEBYTECODE, as in the image), every such import would compile the source again:
    write their bytecode once, beside the source or, where that is read-only, under a cache prefix
    of this process's own."""
    if not sys.dont_write_bytecode:
        return  # Python writes it on the first import
    sources = [source for source in sorted(Path(workflows.__file__).parent.glob("*.py")) if _stale(source)]
    try:
        for source in sources:
            py_compile.compile(str(source), doraise=True)
    except OSError:
        sys.pycache_prefix = tempfile.mkdtemp(prefix="vpnshop-bytecode-")
        for source in sources:
            py_compile.compile(str(source), doraise=True)


def workflow_runner(sandboxed: bool = True) -> WorkflowRunner:
    """Temporal's sandbox (the replay tests and the test suite's workers), or none (WORKFLOW_SANDBOX
    unset, as the shop runs by default). The sandbox is a run-time check: code it accepts runs the
    same without it, as long as workflow modules keep no state of their own between runs, which
    tests/test_workflow_modules.py checks. Without it a payment's workflows replay in 0.24x the CPU
    (docs/performance.md)."""
    if not sandboxed:
        return UnsandboxedWorkflowRunner()
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(*PASSTHROUGH)
    )


@dataclasses.dataclass
class Activities:
    shop: list[Callable[..., Any]]  # the shop's task queue
    paced: list[Callable[..., Any]]  # the bot's paced queue: each sends one Bot API call


def activities_for(ctx: AppContext, bot: Bot | None, closing: contextlib.AsyncExitStack) -> Activities:
    """The activities, bound to the clients they use; `closing` closes those clients at the end."""
    settings = ctx.settings
    ledger = LedgerActivities(ctx.sessions)
    panels = PanelActivities(ctx.sessions, settings)
    closing.push_async_callback(panels.pool.aclose)
    proxies = ProxyActivities(ctx.sessions, settings)
    closing.push_async_callback(proxies.pool.aclose)
    providers = build_providers(settings)
    for provider in providers.values():
        closing.push_async_callback(provider.aclose)
    # The bot's pace over all workers is the paced queue's rate limit; this process's limiter only
    # smooths its own calls and shares a 429's pause among them.
    limiter = RateLimiter(settings.telegram_messages_per_second)
    telegram = TelegramGateway(bot, settings, limiter) if bot else None
    payments = PaymentActivities(ctx.sessions, settings, ctx.storefront, providers, telegram)
    referrals = ReferralActivities(ctx.sessions, ctx.storefront, telegram)
    sales = SalesDigestActivities(ctx.sessions, settings, telegram)
    lookups = {method: p for method, p in providers.items() if isinstance(p, RefundLookup)}
    refunds = RefundActivities(ctx.sessions, lookups)
    # Swept whether or not the owner offers Stars now: charges made while they were on still count.
    stars = StarTransactions(bot) if bot is not None else None
    sweeper = SweepActivities(ctx.sessions, settings, providers, stars)
    reminders = ReminderActivities(ctx.sessions, ctx.storefront, settings.reminder_grace, bot, limiter)
    broadcasts = BroadcastActivities(ctx.sessions, bot, limiter)
    lifecycle = LifecycleActivities(ctx.sessions)
    operators = OperatorActivities(ctx.sessions, telegram)
    paced: list[Callable[..., Any]] = [
        TelegramActivities(telegram).deliver,
        reminders.send_reminder,
        broadcasts.copy_to_recipient,
        broadcasts.finish_broadcast,
        referrals.notify_referrer,
        operators.tell_customer,
    ]
    # Runs begun before the paced queue call the batch activities (and these two) on the shop's queue.
    shop: list[Callable[..., Any]] = [
        ledger.apply_grant,
        panels.list_enabled_hosts,
        panels.upsert_client,
        panels.mark_for_reconcile,
        panels.reconcile_host,
        payments.load_order,
        payments.create_provider_payment,
        payments.fetch_provider_payment,
        payments.set_status,
        payments.record_paid,
        payments.notify,
        payments.refund_stars_charge,
        PurposeActivities(ctx.sessions).fulfil,
        referrals.reward_referrer,
        referrals.notify_referrer,
        sales.send_sales_digest,
        sales.compose_sales_digest,
        refunds.check_refund,
        refunds.take_back_topup,
        refunds.refund_provider_payment,
        sweeper.sweep_payments,
        reminders.claim_reminders,
        reminders.send_reminders,
        reminders.clean_reminders,
        lifecycle.find_ended_access,
        broadcasts.start_broadcast,
        broadcasts.send_broadcast_batch,
        broadcasts.plan_broadcast_batch,
        broadcasts.finish_broadcast,
        proxies.sync_proxy,
        proxies.mark_proxy_for_reconcile,
        proxies.proxies_due,
        operators.tell_customer,
        payments.compose_notices,
    ]
    return Activities(shop=shop, paced=paced)


# Local steps (a payment's database steps and first tries on the hosts) run at once in this process,
# most of them on a database connection: about the engine's pool (SQLite's 5 + 10 overflow) and a few
# on panel HTTP. The SDK's default, 100, let a burst queue steps on the pool inside their own
# timeouts: in a burst of 200 on a busy machine, 19-41 steps ran out of time and were tried again
# (1-2 with 20), and once 47 waited past the pool's 30 s. Queued here, a step waits for a slot in
# the worker before its attempt starts, where no timeout counts.
LOCAL_STEPS = 20


@contextlib.asynccontextmanager
async def build_worker(
    ctx: AppContext, client: Client, task_queue: str | None = None, bot: Bot | None = None
) -> AsyncIterator[Worker]:
    """`async with build_worker(...)`: the worker polls inside the block (the shop's queue and the
    bot's paced queue); on the way out it stops, then the HTTP clients its activities opened
    (providers, panels) are closed. The bot stays the caller's to close."""
    sandboxed = ctx.settings.workflow_sandbox
    if sandboxed:
        compile_workflow_modules()
    queue = task_queue or ctx.settings.temporal_task_queue
    async with contextlib.AsyncExitStack() as closing:
        activities = activities_for(ctx, bot, closing)
        worker = Worker(
            client,
            task_queue=queue,
            workflows=WORKFLOWS,
            activities=activities.shop,
            workflow_runner=workflow_runner(sandboxed),
            graceful_shutdown_timeout=timedelta(seconds=10),
            interceptors=[Liveness()],
            max_concurrent_local_activities=LOCAL_STEPS,
        )
        paced = Worker(
            client,
            task_queue=telegram_queue(queue),
            activities=activities.paced,
            # Enforced by the Temporal server for the whole queue, over every worker polling it.
            max_task_queue_activities_per_second=ctx.settings.telegram_messages_per_second,
            graceful_shutdown_timeout=timedelta(seconds=10),
            interceptors=[Liveness()],
        )
        async with worker, paced:
            yield worker


async def run_worker(ctx: AppContext, stop: asyncio.Event) -> None:
    client = ctx.require_temporal()
    bot = build_bot(ctx.settings) if ctx.settings.telegram_bot_token else None
    try:
        async with build_worker(ctx, client, bot=bot):
            log.info("worker polling task queue %s", ctx.settings.temporal_task_queue)
            schedules = asyncio.create_task(ensure_schedules(client, ctx.settings))
            stopping = asyncio.create_task(stop.wait())
            await asyncio.wait({schedules, stopping}, return_when=asyncio.FIRST_COMPLETED)
            if schedules.done():
                schedules.result()  # a worker that cannot keep its Schedules must not run quietly
                await stopping
            else:
                schedules.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await schedules
    finally:
        if bot is not None:
            await bot.session.close()
    log.info("worker stopped")
