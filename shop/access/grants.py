"""Grants that are not payments (trial, operator adjustments) run as GrantAccessWorkflow (the VPN) or
GrantProxyWorkflow (the Telegram proxy) on Temporal, so the provisioning the workflow does (panels
get the new absolute expiry) happens exactly once.
Grants written straight to the ledger (gifts, free-day codes) start their provisioning here too."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from activities.ledger import ApplyGrantResult
from shop.context import AppContext
from shop.customers.accounts import ensure_subscription
from shop.models import GrantKind, Product
from workflows.grant import GrantAccessInput, GrantAccessWorkflow, grant_workflow_id
from workflows.provision import ProvisionInput, ProvisionSubscriptionWorkflow, provision_workflow_id
from workflows.proxy import GrantProxyInput, GrantProxyWorkflow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class GrantOutcome:
    first: bool  # False: this source key had already been granted (a repeated tap or request)
    expires_at: datetime


async def run_grant(
    ctx: AppContext,
    user_id: int,
    source_key: str,
    duration: timedelta,
    kind: GrantKind,
    actor: str,
    product: Product = Product.VPN,
) -> GrantOutcome:
    """Applies the grant once per source key; a repeat joins the running workflow or reads its result.
    The VPN's grant is provisioned on the hosts (GrantAccessWorkflow), the proxy's on its MTG panel
    (GrantProxyWorkflow); both are `grant:<source key>`."""
    subscription = await ensure_subscription(ctx.sessions, user_id)
    client = ctx.require_temporal()
    workflow_id = grant_workflow_id(source_key)
    proxy = product is Product.PROXY
    run: Any = GrantProxyWorkflow.run if proxy else GrantAccessWorkflow.run
    inp = (GrantProxyInput if proxy else GrantAccessInput)(
        subscription_id=subscription.id,
        source_key=source_key,
        seconds=int(duration.total_seconds()),
        kind=kind,
        actor=actor,
    )
    try:
        handle = await client.start_workflow(
            run,
            inp,
            id=workflow_id,
            task_queue=ctx.settings.temporal_task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )
    except WorkflowAlreadyStartedError:
        done = client.get_workflow_handle(workflow_id, result_type=ApplyGrantResult)
        return GrantOutcome(False, (await done.result()).expires_at)
    result = await handle.result()
    return GrantOutcome(result.applied, result.expires_at)


async def provision_now(ctx: AppContext, user_id: int, trigger: str) -> None:
    """Puts a grant the caller already wrote to the ledger (a gift opened, a free-day code) on the
    panels now, rather than at the next reconciliation. One run per trigger: a repeat joins it.
    Temporal out of reach is logged, not raised: the grant stands and reconciliation catches up."""
    subscription = await ensure_subscription(ctx.sessions, user_id)
    try:
        await ctx.require_temporal().start_workflow(
            ProvisionSubscriptionWorkflow.run,
            ProvisionInput(subscription_id=subscription.id),
            id=provision_workflow_id(subscription.id, trigger),
            task_queue=ctx.settings.temporal_task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )
    except WorkflowAlreadyStartedError:
        pass  # this trigger's run happened already
    except (RPCError, RuntimeError) as error:  # the SDK raises RuntimeError when it cannot connect
        log.warning("provisioning for %s (%s) left to reconciliation: %s", user_id, trigger, error)
