"""The free trial: N days (TRIAL_DAYS) once per customer, only before their first purchase."""

from __future__ import annotations

import enum
from datetime import datetime, timedelta

from sqlalchemy import select, update

from shop.access.grants import run_grant
from shop.context import AppContext
from shop.db import SessionFactory
from shop.models import GrantKind, Subscription, User
from shop.storefront.fields import OwnerSettings


class TrialRefusal(enum.StrEnum):
    DISABLED = "disabled"
    USED = "used"
    PAID = "paid"


class TrialUnavailable(Exception):
    def __init__(self, reason: TrialRefusal) -> None:
        super().__init__(reason.value)
        self.reason = reason


def trial_source_key(user_id: int) -> str:
    return f"trial:{user_id}"


async def trial_refusal(sessions: SessionFactory, owner: OwnerSettings, user_id: int) -> TrialRefusal | None:
    """Why this customer cannot take the trial now, or None when they can."""
    if not owner.trial_enabled:
        return TrialRefusal.DISABLED
    async with sessions() as session:
        used = await session.scalar(select(User.trial_used).where(User.id == user_id))
        paid = await session.scalar(select(Subscription.has_paid).where(Subscription.user_id == user_id))
    if used:
        return TrialRefusal.USED
    if paid:
        return TrialRefusal.PAID
    return None


async def start_trial(ctx: AppContext, user_id: int) -> datetime:
    """Claims the trial (a second tap finds it claimed) and grants it through GrantAccessWorkflow.
    Returns the new expiry. If Temporal cannot be reached the claim is released for a later retry."""
    owner = await ctx.storefront.current()
    refusal = await trial_refusal(ctx.sessions, owner, user_id)
    if refusal is not None:
        raise TrialUnavailable(refusal)
    async with ctx.sessions() as session, session.begin():
        claimed = await session.execute(
            update(User).where(User.id == user_id, User.trial_used.is_(False)).values(trial_used=True)
        )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise TrialUnavailable(TrialRefusal.USED)
    try:
        outcome = await run_grant(
            ctx,
            user_id,
            trial_source_key(user_id),
            timedelta(days=owner.trial_days),
            GrantKind.TRIAL,
            actor=f"user:{user_id}",
        )
    except Exception:
        async with ctx.sessions() as session, session.begin():
            await session.execute(update(User).where(User.id == user_id).values(trial_used=False))
        raise
    return outcome.expires_at
