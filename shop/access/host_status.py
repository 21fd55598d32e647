"""How a host is doing, for the operator: a live check of its panel (login, version, inbound, client
count), reconciling it now (the same workflow the Schedule runs, for this host only) and which
customers it is behind on (what the shop wants there differs from what it last wrote)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import and_, func, or_, select
from temporalio.client import WorkflowFailureError
from temporalio.service import RPCError

from shop.access.hosts import HostError, HostService, probe_panel
from shop.access.reconcile import HostReconcileReport
from shop.context import AppContext
from shop.models import Host, PanelClient, Subscription, User, utcnow
from shop.operators import audit
from shop.operators.audit import Actor
from shop.panel.pool import credentials_for
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
        version, inbound = await probe_panel(credentials, host.inbound_id, service.timeout)
    except HostError as error:
        return HostCheck(False, error=str(error))
    described = f"{inbound.protocol} :{inbound.port}" + (f" ({inbound.remark})" if inbound.remark else "")
    return HostCheck(True, version.value, described, len(inbound.clients))


async def behind(ctx: AppContext, host: Host, limit: int = MAX_BEHIND) -> tuple[list[Behind], int]:
    """The customers this host lags for, up to `limit`, and how many there are in all: active ones
    with no client there, clients whose last write failed, and clients whose written expiry or
    on/off differs from the shop's (what reconciliation would change). One indexed query."""
    now = utcnow()
    active = and_(Subscription.expires_at > now, User.banned.is_(False))
    lagging = or_(
        and_(PanelClient.id.is_(None), active),
        and_(
            PanelClient.id.is_not(None),
            or_(
                PanelClient.needs_reconcile.is_(True),
                PanelClient.expiry_written.is_distinct_from(Subscription.expires_at),
                PanelClient.enabled_written.is_distinct_from(active),
            ),
        ),
    )
    base = (
        select(Subscription.user_id, PanelClient.id.label("row"), PanelClient.needs_reconcile)
        .join(User, User.id == Subscription.user_id)
        .outerjoin(
            PanelClient, and_(PanelClient.subscription_id == Subscription.id, PanelClient.host_id == host.id)
        )
        .where(Subscription.expires_at.is_not(None), lagging)
    )
    async with ctx.sessions() as session:
        total = await session.scalar(select(func.count()).select_from(base.subquery())) or 0
        rows = await session.execute(base.order_by(Subscription.id).limit(limit))
    found = [
        Behind(user_id, "missing" if row is None else "failed" if failed else "stale")
        for user_id, row, failed in rows
    ]
    return found, total


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
