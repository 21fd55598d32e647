"""Operator actions: find a customer, add or remove days, ban and unban."""

from __future__ import annotations

import enum
import logging
import re
import secrets
from datetime import timedelta

from sqlalchemy import func, select, update
from temporalio.service import RPCError

from shop.access.grants import GrantOutcome, run_grant
from shop.context import AppContext
from shop.customers.users import Customer, get_customer
from shop.db import SessionFactory
from shop.models import GrantKind, Subscription, User
from shop.operators import audit
from shop.operators.audit import Actor
from workflows.provision import ProvisionInput, ProvisionSubscriptionWorkflow, provision_workflow_id
from workflows.proxy import ProvisionProxyInput, ProvisionProxyWorkflow, proxy_workflow_id

log = logging.getLogger(__name__)
MAX_ADJUSTMENT_DAYS = 3650
NONCE = re.compile(r"^[A-Za-z0-9_-]{6,24}$")


async def find_customer(sessions: SessionFactory, query: str) -> Customer | None:
    """By Telegram id ("123") or username ("@name" or "name", any case)."""
    query = query.strip()
    if query.lstrip("-").isdigit():
        return await get_customer(sessions, int(query))
    name = query.removeprefix("@").lower()
    if not name:
        return None
    async with sessions() as session:
        user_id = await session.scalar(select(User.id).where(func.lower(User.username) == name).limit(1))
    return await get_customer(sessions, user_id) if user_id is not None else None


def adjustment_key(user_id: int, days: int, nonce: str) -> str:
    return f"admin:{user_id}:{days:+d}:{nonce}"


async def adjust_days(
    ctx: AppContext, operator_id: int, user_id: int, days: int, nonce: str, via: str = "bot"
) -> GrantOutcome:
    """Adds (or with negative `days` removes) days as a ledger grant by the operator. `nonce` is minted
    when the button is shown, so a double tap of the same button applies once (and is audited once)."""
    if days == 0 or abs(days) > MAX_ADJUSTMENT_DAYS:
        raise ValueError(f"days must be between -{MAX_ADJUSTMENT_DAYS} and {MAX_ADJUSTMENT_DAYS}, not 0")
    if not NONCE.match(nonce):
        raise ValueError("malformed nonce")
    if await get_customer(ctx.sessions, user_id) is None:
        raise LookupError(user_id)
    outcome = await run_grant(
        ctx,
        user_id,
        adjustment_key(user_id, days, nonce),
        timedelta(days=days),
        GrantKind.ADJUSTMENT,
        actor=f"admin:{operator_id}",
    )
    if outcome.first:
        after = {"days": days, "expires_at": outcome.expires_at}
        await audit.write(
            ctx.sessions, Actor(operator_id, via), "customer.days", f"user:{user_id}", after=after
        )
    return outcome


async def set_banned(
    sessions: SessionFactory, user_id: int, banned: bool, actor: Actor | None = None
) -> bool:
    """Returns True when the flag changed (False: unknown user or already so); an operator's change
    is audited in the same transaction."""
    async with sessions() as session, session.begin():
        result = await session.execute(
            update(User).where(User.id == user_id, User.banned.is_not(banned)).values(banned=banned)
        )
        changed = bool(result.rowcount)  # type: ignore[attr-defined]
        if changed and actor is not None:
            action = "customer.ban" if banned else "customer.unban"
            audit.record(
                session, actor, action, f"user:{user_id}", {"banned": not banned}, {"banned": banned}
            )
    return changed


class PanelSync(enum.StrEnum):
    STARTED = "started"  # a provisioning run is putting the panels in line now
    NOTHING = "nothing"  # the customer never had a subscription: no panel holds them
    DEFERRED = "deferred"  # Temporal unreachable: the close-ended-access scan catches up


class AccessSync:
    """Puts a customer's clients on every panel in line with the shop (disabled while banned) by
    starting a `ProvisionSubscriptionWorkflow` run, which reads the ban from the database itself."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    async def sync(self, user_id: int) -> PanelSync:
        """Called after the ban flag is saved. If the run cannot be started, the flag still stands
        and the close-ended-access Schedule disables (or re-enables) the clients on its next pass."""
        async with self.ctx.sessions() as session:
            found = (
                await session.execute(
                    select(Subscription.id, Subscription.proxy_expires_at).where(
                        Subscription.user_id == user_id
                    )
                )
            ).first()
        if found is None:
            return PanelSync.NOTHING
        subscription_id, proxy_expiry = found
        # Each ban or unban is its own run: a fixed id would refuse the unban that follows a ban.
        trigger = f"ban:{secrets.token_hex(8)}"
        client, queue = self.ctx.require_temporal(), self.ctx.settings.temporal_task_queue
        try:
            await client.start_workflow(
                ProvisionSubscriptionWorkflow.run,
                ProvisionInput(subscription_id=subscription_id),
                id=provision_workflow_id(subscription_id, trigger),
                task_queue=queue,
            )
            if proxy_expiry is not None:  # the Telegram proxy stops (or starts) with the ban too
                await client.start_workflow(
                    ProvisionProxyWorkflow.run,
                    ProvisionProxyInput(subscription_id=subscription_id),
                    id=proxy_workflow_id(subscription_id, trigger),
                    task_queue=queue,
                )
        except (RPCError, RuntimeError) as error:  # the SDK raises RuntimeError when it cannot connect
            log.warning("panels of user %s left to the close-ended-access scan: %s", user_id, error)
            return PanelSync.DEFERRED
        return PanelSync.STARTED
