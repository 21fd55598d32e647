"""The proxy's free trial: the shop's trial terms (TRIAL_DAYS, the trial switch), once per customer
who never had a proxy, through GrantProxyWorkflow. Once is the ledger's: the grant's source key
`proxy-trial:<user>` applies at most once, and the workflow ID is the same key, so a double tap
joins the first run."""

from __future__ import annotations

import asyncio
import enum
from datetime import timedelta

from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from shop.context import AppContext
from shop.customers.accounts import ensure_subscription
from shop.models import GrantKind
from shop.proxy.access import proxy_access, proxy_on_sale
from workflows.grant import grant_workflow_id
from workflows.proxy import GrantProxyInput, GrantProxyWorkflow

# How long the bot waits for the proxy before answering "being set up" (the link is then on /proxy).
WAIT_SECONDS = 20.0


class ProxyTrialRefusal(enum.StrEnum):
    DISABLED = "disabled"  # no trial in this shop, or no MTG host to put it on
    USED = "used"  # the customer had a proxy before (a trial or a purchase)


def proxy_trial_key(user_id: int) -> str:
    return f"proxy-trial:{user_id}"


async def proxy_trial_refusal(ctx: AppContext, user_id: int) -> ProxyTrialRefusal | None:
    owner = await ctx.storefront.current()
    if not owner.trial_enabled or not await proxy_on_sale(ctx.sessions):
        return ProxyTrialRefusal.DISABLED
    if (await proxy_access(ctx.sessions, user_id)).ever:
        return ProxyTrialRefusal.USED
    return None


async def start_proxy_trial(ctx: AppContext, user_id: int) -> bool:
    """Grants the trial (once) and waits a little for its proxy: True when it is on the panel."""
    owner = await ctx.storefront.current()
    subscription = await ensure_subscription(ctx.sessions, user_id)
    key = proxy_trial_key(user_id)
    client = ctx.require_temporal()
    try:
        handle = await client.start_workflow(
            GrantProxyWorkflow.run,
            GrantProxyInput(
                subscription_id=subscription.id,
                source_key=key,
                seconds=int(timedelta(days=owner.trial_days).total_seconds()),
                kind=GrantKind.TRIAL,
                actor=f"user:{user_id}",
            ),
            id=grant_workflow_id(key),
            task_queue=ctx.settings.temporal_task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )
    except WorkflowAlreadyStartedError:  # taken long ago: whatever it became is on /proxy
        return bool((await proxy_access(ctx.sessions, user_id)).link)
    try:
        async with asyncio.timeout(WAIT_SECONDS):
            result = await handle.result()
    except TimeoutError:
        return False
    return result.provisioning.status != "failed"
