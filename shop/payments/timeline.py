"""A payment's timeline: the steps the shop itself took or saw, appended as they happen by the code
that did them (the webhook handler, the payment activities, the operators' services) into
`payment_events`, read back in order for the console's payment page.

Writing never fails the caller's step: the timeline is the operators' view, not the payment's
truth (the payments row and the workflow are); a lost line is logged, never retried around.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, literal, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection

from shop.db import SessionFactory, engine_of
from shop.models import Payment, PaymentEventRow, UTCDateTime, utcnow

log = logging.getLogger(__name__)


class EventKind(enum.StrEnum):
    CREATED = "created"
    LINK_ISSUED = "link_issued"
    WEBHOOK = "webhook"  # a hint received and handed to the workflow
    WEBHOOK_REFUSED = "webhook_refused"  # a hint that failed authentication
    PROVIDER_CHECK = "provider_check"
    TRANSFER_CLAIMED = "transfer_claimed"
    STATUS = "status"
    GRANT = "grant"
    HOST_READY = "host_ready"
    HOST_FAILED = "host_failed"
    NOTICE = "notice"
    REFERRAL_REWARD = "referral_reward"
    REFUND = "refund"
    OPERATOR = "operator"


@dataclass(frozen=True)
class Event:
    id: int
    kind: str
    detail: str
    actor: str
    at: datetime


async def write(
    connection: AsyncConnection, payment_id: str, kind: EventKind, detail: str = "", actor: str = ""
) -> None:
    """Appends one step in the caller's transaction (a status change commits with its line); a
    payment id we do not know appends nothing."""
    known = select(
        literal(payment_id),
        literal(kind.value),
        literal(detail[:2000]),
        literal(actor[:64]),
        literal(utcnow(), UTCDateTime()),
    ).where(Payment.id == payment_id)
    columns = ["payment_id", "kind", "detail", "actor", "created_at"]
    await connection.execute(insert(PaymentEventRow).from_select(columns, known))


async def note(
    sessions: SessionFactory, payment_id: str, kind: EventKind, detail: str = "", actor: str = ""
) -> None:
    """Appends one step in a transaction of its own (a connection: lighter than a Session)."""
    try:
        async with engine_of(sessions).begin() as connection:
            await write(connection, payment_id, kind, detail, actor)
    except SQLAlchemyError as error:
        log.warning("payment %s: %s not written to the timeline: %s", payment_id, kind, error)


async def note_grant(
    sessions: SessionFactory, payment_id: str, seconds: int, expiry: datetime, applied: bool, actor: str
) -> None:
    """A purchase's grant (keyed by its payment id): how long, and the expiry it produced."""
    detail = f"{seconds // 86400} days, expiry {expiry.strftime('%Y-%m-%d %H:%M UTC')}"
    await note(sessions, payment_id, EventKind.GRANT, detail + ("" if applied else " (already)"), actor)


async def events(sessions: SessionFactory, payment_id: str) -> list[Event]:
    async with sessions() as session:
        rows = await session.scalars(
            select(PaymentEventRow)
            .where(PaymentEventRow.payment_id == payment_id)
            .order_by(PaymentEventRow.id)
        )
        return [Event(row.id, row.kind, row.detail, row.actor, row.created_at) for row in rows]
