"""The entitlement ledger: every grant of access is a row keyed by its source.

`grant()` applies each source key at most once, whatever the concurrency, and keeps
`subscriptions.expires_at` equal to the result of the ledger in the same transaction. Each product
is an entitlement of its own: proxy grants (`Product.PROXY`) move `subscriptions.proxy_expires_at`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import InstrumentedAttribute

from shop.db import SessionFactory, engine_of
from shop.models import Grant, GrantKind, Product, Subscription, utcnow


class UnknownSubscription(LookupError):
    pass


@dataclass(frozen=True)
class GrantResult:
    applied: bool  # False: this source key had already been applied
    expires_at: datetime  # the subscription's expiry now
    grant_expiry: datetime  # the expiry this source key produced when it was applied


def expiry_column(product: Product) -> InstrumentedAttribute[datetime | None]:
    """The subscription's column caching this product's expiry."""
    return Subscription.proxy_expires_at if product is Product.PROXY else Subscription.expires_at


def next_expiry(current: datetime | None, duration: timedelta, now: datetime) -> datetime:
    base = max(now, current) if current else now
    return max(now, base + duration)


async def grant(
    sessions: SessionFactory,
    subscription_id: int,
    source_key: str,
    duration: timedelta,
    kind: GrantKind,
    actor: str,
    now: datetime | None = None,
    product: Product = Product.VPN,
) -> GrantResult:
    now = now or utcnow()
    column = expiry_column(product)
    applied_expiry = select(Grant.resulting_expiry).where(Grant.source_key == source_key)
    # Core on a connection: a grant is on every payment's path, and a Session's unit of work
    # costs more than these four statements.
    try:
        async with engine_of(sessions).begin() as connection:
            # Writing the row first locks it: on PostgreSQL it serialises grants of one
            # subscription, on SQLite it takes the write lock before any read so no snapshot goes stale.
            locked = await connection.execute(
                update(Subscription)
                .where(Subscription.id == subscription_id)
                .values(updated_at=now)
                .returning(column)
            )
            row = locked.first()
            if row is None:
                raise UnknownSubscription(subscription_id)
            current: datetime | None = row[0]
            existing = await connection.scalar(applied_expiry)
            if existing is not None:
                return GrantResult(False, current or existing, existing)
            new_expiry = next_expiry(current, duration, now)
            await connection.execute(
                insert(Grant).values(
                    subscription_id=subscription_id,
                    kind=kind,
                    product=product,
                    source_key=source_key,
                    duration_seconds=int(duration.total_seconds()),
                    resulting_expiry=new_expiry,
                    actor=actor,
                    created_at=now,
                )
            )
            values: dict[str, object] = {column.key: new_expiry}
            if kind is GrantKind.PURCHASE and product is Product.VPN:
                values["has_paid"] = True
            await connection.execute(
                update(Subscription).where(Subscription.id == subscription_id).values(values)
            )
            return GrantResult(True, new_expiry, new_expiry)
    except IntegrityError:
        # The same source key was applied to another subscription row at the same moment.
        async with engine_of(sessions).connect() as connection:
            existing = await connection.scalar(applied_expiry)
            expires = await connection.scalar(select(column).where(Subscription.id == subscription_id))
        if existing is None:
            raise
        return GrantResult(False, expires or existing, existing)


async def history(sessions: SessionFactory, subscription_id: int) -> list[Grant]:
    async with sessions() as session:
        rows = await session.scalars(
            select(Grant).where(Grant.subscription_id == subscription_id).order_by(Grant.id)
        )
        return list(rows)
