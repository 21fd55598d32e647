"""How a host is doing, for the operator: a live check of its panel (login, version, inbound, client
count), reconciling it now (the same workflow the Schedule runs, for this host only) and which
customers it is behind on (what the shop wants there differs from what it last wrote)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from temporalio.client import WorkflowFailureError
from temporalio.service import RPCError

from shop.access.hosts import HostError, HostService, check_panel
from shop.access.provisioning import all_desired
from shop.access.reconcile import HostReconcileReport
from shop.context import AppContext
from shop.models import Host, PanelClient, Subscription
from shop.operators import audit
from shop.operators.audit import Actor
from shop.panel.client import PanelClient as Panel
from shop.panel.pool import credentials_for
from shop.panel.session import panel_timeout
from workflows.reconcile import ReconcileInput, ReconcilePanelsWorkflow

RECONCILE_WAIT = timedelta(minutes=2)
MAX_BEHIND = 100


@dataclass(frozen=True)
class HostCheck:
    ok: bool
    version: str = ""
    inbound: str = ""  # "vless :443 (remark)"
    panel_clients: int = 0
    error: str = ""


@dataclass(frozen=True)
class Behind:
    user_id: int
    reason: str  # missing | failed | stale


async def check_host(service: HostService, host: Host) -> HostCheck:
    """Logs in and reads the inbound now; a refusal is reported, not raised."""
    credentials = credentials_for(host, service.sealer)
    try:
        inbound = await check_panel(credentials, host.inbound_id, service.timeout)
        async with Panel(credentials, panel_timeout(service.timeout)) as panel:
            version = await panel.version()
    except HostError as error:
        return HostCheck(False, error=str(error))
    described = f"{inbound.protocol} :{inbound.port}" + (f" ({inbound.remark})" if inbound.remark else "")
    return HostCheck(True, version.value, described, len(inbound.clients))


async def behind(ctx: AppContext, host: Host, limit: int = MAX_BEHIND) -> tuple[list[Behind], int]:
    """The customers this host lags for, up to `limit`, and how many there are in all."""
    desired = await all_desired(ctx.sessions)
    async with ctx.sessions() as session:
        rows = {
            row.subscription_id: row
            for row in await session.scalars(select(PanelClient).where(PanelClient.host_id == host.id))
        }
        owners = {
            sid: uid for sid, uid in await session.execute(select(Subscription.id, Subscription.user_id))
        }
    found: list[Behind] = []
    for subscription_id, wanted in sorted(desired.items()):
        row = rows.get(subscription_id)
        if row is None:
            reason = "missing" if wanted.active else ""
        elif row.needs_reconcile:
            reason = "failed"
        elif row.expiry_written != wanted.expires_at or row.enabled_written != wanted.active:
            reason = "stale"
        else:
            reason = ""
        if reason:
            found.append(Behind(owners.get(subscription_id, wanted.telegram_id), reason))
    return found[:limit], len(found)


async def reconcile_now(ctx: AppContext, actor: Actor, host: Host) -> HostReconcileReport:
    """Runs the reconciliation workflow for this host and waits for its report (which the activity
    also stores on the host); a run that cannot start or finish in RECONCILE_WAIT is a report with
    the error."""
    await audit.write(ctx.sessions, actor, "host.reconcile", f"host:{host.name}")
    try:
        result = await ctx.require_temporal().execute_workflow(
            ReconcilePanelsWorkflow.run,
            ReconcileInput(host_ids=[host.id]),
            id=f"reconcile-host-{host.id}-{secrets.token_hex(4)}",
            task_queue=ctx.settings.temporal_task_queue,
            execution_timeout=RECONCILE_WAIT,
        )
    except (WorkflowFailureError, RPCError, RuntimeError) as error:
        return HostReconcileReport(host_id=host.id, host_name=host.name, errors=[f"{error}"[:500]])
    if not result.hosts:  # disabled meanwhile: the workflow reconciles enabled hosts only
        return HostReconcileReport(host_id=host.id, host_name=host.name, errors=["host disabled"])
    return result.hosts[0]
