"""CSV exports of customers, payments and the ledger, streamed: one query read through a
server-side cursor (`yield_per`: asyncpg fetches BATCH rows at a time; SQLite steps its cursor),
written out a batch at a time, so memory stays the same at a thousand rows or ten million.

A spreadsheet runs a cell starting with = + - @ as a formula, and names are typed by customers:
such text cells get a leading apostrophe (OWASP's advice against CSV injection).
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from sqlalchemy import select

from shop.db import SessionFactory
from shop.models import Grant, Payment, Plan, Subscription, User

BATCH = 1000
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


@dataclass(frozen=True)
class Export:
    header: tuple[str, ...]
    query: Callable[[], Any]  # a Select


EXPORTS: dict[str, Export] = {
    "customers": Export(
        (
            "id", "username", "full_name", "language", "referrer_id", "banned", "trial_used",
            "bot_blocked_at", "created_at", "subscription_expires_at", "has_paid",
        ),
        lambda: select(
            User.id, User.username, User.full_name, User.language, User.referrer_id, User.banned,
            User.trial_used, User.bot_blocked_at, User.created_at, Subscription.expires_at,
            Subscription.has_paid,
        )
        .outerjoin(Subscription, Subscription.user_id == User.id)
        .order_by(User.id),
    ),
    "payments": Export(
        (
            "id", "user_id", "plan_id", "plan", "method", "amount", "currency", "status",
            "provider_payment_id", "discount_percent", "price_rub", "created_at", "paid_at",
            "delivered_at",
        ),
        lambda: select(
            Payment.id, Payment.user_id, Payment.plan_id, Plan.name, Payment.method, Payment.amount,
            Payment.currency, Payment.status, Payment.provider_payment_id, Payment.discount_percent,
            Payment.price_rub, Payment.created_at, Payment.paid_at, Payment.delivered_at,
        )
        .join(Plan, Plan.id == Payment.plan_id)
        .order_by(Payment.created_at, Payment.id),
    ),
    "ledger": Export(
        (
            "id", "user_id", "subscription_id", "kind", "source_key", "duration_seconds",
            "resulting_expiry", "actor", "created_at",
        ),
        lambda: select(
            Grant.id, Subscription.user_id, Grant.subscription_id, Grant.kind, Grant.source_key,
            Grant.duration_seconds, Grant.resulting_expiry, Grant.actor, Grant.created_at,
        )
        .join(Subscription, Subscription.id == Grant.subscription_id)
        .order_by(Grant.id),
    ),
}  # fmt: skip


async def csv_rows(sessions: SessionFactory, kind: str, batch: int = BATCH) -> AsyncIterator[str]:
    """The export `kind` (a key of EXPORTS) as CSV text: the header, then one chunk per batch."""
    export = EXPORTS[kind]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(export.header)
    yield buffer.getvalue()
    async with sessions() as session:
        result = await session.stream(export.query().execution_options(yield_per=batch))
        async for rows in result.partitions():
            buffer.seek(0)
            buffer.truncate()
            writer.writerows([cell(value) for value in row] for row in rows)
            yield buffer.getvalue()
