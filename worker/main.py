"""The worker process: registers every workflow and activity on the shop's task queue."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.ledger import LedgerActivities
from activities.panels import PanelActivities
from activities.payments import PaymentActivities, Telegram
from activities.refunds import RefundActivities, RefundLookup
from activities.sweeper import SweepActivities
from shop.context import AppContext
from shop.payments.registry import build_providers
from worker.schedules import ensure_schedules
from workflows.grant import GrantAccessWorkflow
from workflows.payment import PaymentWorkflow
from workflows.provision import ProvisionSubscriptionWorkflow
from workflows.reconcile import ReconcilePanelsWorkflow
from workflows.refund import RefundChargeWorkflow, RefundWorkflow
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
]

# Our own modules hold only models and pure helpers on the workflow side: passing them through
# keeps the sandbox from re-importing SQLAlchemy and pydantic for every run.
PASSTHROUGH = ("shop", "activities", "pydantic", "sqlalchemy")


def _telegram(ctx: AppContext) -> Telegram | None:
    if ctx.settings.telegram_bot_token is None:
        return None
    from bot.main import build_bot
    from shop.telegram import TelegramGateway

    return TelegramGateway(build_bot(ctx.settings))


def activities_for(ctx: AppContext) -> list[Callable[..., Any]]:
    ledger = LedgerActivities(ctx.sessions)
    panels = PanelActivities(ctx.sessions, ctx.settings)
    providers = build_providers(ctx.settings)
    payments = PaymentActivities(ctx.sessions, ctx.settings, providers, _telegram(ctx))
    lookups = {method: p for method, p in providers.items() if isinstance(p, RefundLookup)}
    refunds = RefundActivities(ctx.sessions, lookups)
    sweeper = SweepActivities(ctx.sessions, ctx.settings, providers)
    return [
        ledger.apply_grant,
        panels.list_enabled_hosts,
        panels.upsert_client,
        panels.mark_for_reconcile,
        panels.reconcile_host,
        payments.load_order,
        payments.create_provider_payment,
        payments.fetch_provider_payment,
        payments.set_status,
        payments.notify,
        payments.refund_stars_charge,
        refunds.check_refund,
        sweeper.sweep_payments,
    ]


def build_worker(ctx: AppContext, client: Client, task_queue: str | None = None) -> Worker:
    return Worker(
        client,
        task_queue=task_queue or ctx.settings.temporal_task_queue,
        workflows=WORKFLOWS,
        activities=activities_for(ctx),
        workflow_runner=SandboxedWorkflowRunner(
            restrictions=SandboxRestrictions.default.with_passthrough_modules(*PASSTHROUGH)
        ),
        graceful_shutdown_timeout=timedelta(seconds=10),
    )


async def run_worker(ctx: AppContext, stop: asyncio.Event) -> None:
    client = ctx.require_temporal()
    worker = build_worker(ctx, client)
    await ensure_schedules(client, ctx.settings)
    async with worker:
        log.info("worker polling task queue %s", ctx.settings.temporal_task_queue)
        await stop.wait()
    log.info("worker stopped")
