"""A customer as the console's customer page shows them: who, their access and link, each host's
copy of their client, the ledger, payments, reminders, the referral program and the audit entries."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from shop.customers import referrals
from shop.customers.users import Access, access_of
from shop.db import SessionFactory
from shop.models import Grant, Host, PanelClient, Payment, Reminder, Subscription, User
from shop.operators import audit
from shop.operators.audit import AuditView

LAST = 50  # each list shows the newest this many


@dataclass(frozen=True)
class HostCopy:
    host_id: int
    host: str
    host_enabled: bool
    email: str
    expiry_written: datetime | None
    enabled_written: bool
    last_sync_at: datetime | None
    needs_reconcile: bool
    in_line: bool  # what the shop last wrote equals what it wants now


@dataclass(frozen=True)
class Invitee:
    id: int
    full_name: str
    created_at: datetime


@dataclass(frozen=True)
class Profile:
    user: User
    access: Access
    subscription_id: int | None
    link: str | None
    hosts: list[HostCopy]
    grants: list[Grant]
    payments: list[Payment]
    reminders: list[Reminder]
    referral: referrals.Summary
    referrer: User | None
    invitees: list[Invitee]
    audit: list[AuditView]


async def _rows(sessions: SessionFactory, user_id: int, sub_id: int) -> tuple[list[Any], ...]:
    """The page's lists, read in one session: hosts' copies, grants, payments, reminders, invitees."""
    async with sessions() as session:
        copies = await session.execute(
            select(PanelClient, Host.name, Host.enabled)
            .join(Host, Host.id == PanelClient.host_id)
            .where(PanelClient.subscription_id == sub_id)
            .order_by(Host.sort_order, Host.id)
        )
        grants = await session.scalars(
            select(Grant).where(Grant.subscription_id == sub_id).order_by(Grant.id.desc()).limit(LAST)
        )
        payments = await session.scalars(
            select(Payment).where(Payment.user_id == user_id).order_by(Payment.created_at.desc()).limit(LAST)
        )
        reminders = await session.scalars(
            select(Reminder)
            .where(Reminder.subscription_id == sub_id)
            .order_by(Reminder.id.desc())
            .limit(LAST)
        )
        invitees = await session.execute(
            select(User.id, User.full_name, User.created_at)
            .where(User.referrer_id == user_id)
            .order_by(User.created_at.desc())
            .limit(LAST)
        )
        return (
            list(copies),
            list(grants),
            list(payments),
            list(reminders),
            [Invitee(*row) for row in invitees],
        )


async def profile(sessions: SessionFactory, user_id: int, base_url: str) -> Profile | None:
    async with sessions() as session:
        user = await session.get(User, user_id)
        if user is None:
            return None
        referrer = await session.get(User, user.referrer_id) if user.referrer_id else None
        subscription = await session.scalar(select(Subscription).where(Subscription.user_id == user_id))
    # Independent reads side by side, one connection each: the page waits for the slowest only.
    rows, access, referral, audited = await asyncio.gather(
        _rows(sessions, user_id, subscription.id if subscription else -1),
        access_of(sessions, user_id),
        referrals.summary(sessions, user_id),
        audit.for_target(sessions, f"user:{user_id}", LAST),
    )
    copy_rows, grant_list, payment_list, reminder_list, invitee_list = rows
    wanted_on = access.active and not user.banned
    hosts = [
        HostCopy(
            row.host_id,
            name,
            enabled,
            row.email,
            row.expiry_written,
            row.enabled_written,
            row.last_sync_at,
            row.needs_reconcile,
            not row.needs_reconcile
            and row.expiry_written == access.expires_at
            and row.enabled_written == wanted_on,
        )
        for row, name, enabled in copy_rows
    ]
    return Profile(
        user=user,
        access=access,
        subscription_id=subscription.id if subscription else None,
        link=f"{base_url}/sub/{subscription.token}" if subscription else None,
        hosts=hosts,
        grants=grant_list,
        payments=payment_list,
        reminders=reminder_list,
        referral=referral,
        referrer=referrer,
        invitees=invitee_list,
        audit=audited,
    )
