"""The audit log: one row per operator action (actor, action, target, before -> after, reason).

Services write it in the transaction of the change they make (`record`), so an action and its
entry land together or not at all; actions that run elsewhere (a workflow) write it on their own
(`write`) once the action is accepted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from shop.db import SessionFactory
from shop.models import AuditEntry


@dataclass(frozen=True)
class Actor:
    """Who acts: an operator's Telegram id and where they act from (console, bot, cli)."""

    id: int
    channel: str


@dataclass(frozen=True)
class AuditView:
    id: int
    actor_id: int
    channel: str
    action: str
    target: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    reason: str
    created_at: datetime


def _dump(values: dict[str, Any] | None) -> str | None:
    return None if values is None else json.dumps(values, ensure_ascii=False, sort_keys=True, default=str)


def changed(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Only the fields whose value differs, so an entry reads as what the action did."""
    keys = [key for key in after if before.get(key) != after[key]]
    return {key: before.get(key) for key in keys}, {key: after[key] for key in keys}


def record(
    session: AsyncSession,
    actor: Actor,
    action: str,
    target: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str = "",
) -> None:
    session.add(
        AuditEntry(
            actor_id=actor.id,
            channel=actor.channel,
            action=action,
            target=target,
            before=_dump(before),
            after=_dump(after),
            reason=reason,
        )
    )


async def write(
    sessions: SessionFactory,
    actor: Actor,
    action: str,
    target: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str = "",
) -> None:
    async with sessions() as session, session.begin():
        record(session, actor, action, target, before, after, reason)


def _view(entry: AuditEntry) -> AuditView:
    return AuditView(
        entry.id,
        entry.actor_id,
        entry.channel,
        entry.action,
        entry.target,
        json.loads(entry.before) if entry.before else None,
        json.loads(entry.after) if entry.after else None,
        entry.reason,
        entry.created_at,
    )


async def entries(
    sessions: SessionFactory, limit: int = 50, offset: int = 0, action_prefix: str = ""
) -> tuple[list[AuditView], int]:
    """The newest entries first, and how many there are in all (for paging)."""
    where = AuditEntry.action.startswith(action_prefix) if action_prefix else AuditEntry.id.is_not(None)
    async with sessions() as session:
        total = await session.scalar(select(func.count()).select_from(AuditEntry).where(where)) or 0
        rows = await session.scalars(
            select(AuditEntry).where(where).order_by(AuditEntry.id.desc()).limit(limit).offset(offset)
        )
        return [_view(row) for row in rows], total


async def for_target(sessions: SessionFactory, target: str, limit: int = 50) -> list[AuditView]:
    """The newest entries about one thing (`user:42`, `payment:ab12`)."""
    async with sessions() as session:
        rows = await session.scalars(
            select(AuditEntry).where(AuditEntry.target == target).order_by(AuditEntry.id.desc()).limit(limit)
        )
        return [_view(row) for row in rows]
