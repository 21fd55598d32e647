"""Explicit status transitions: each change is a conditional UPDATE from the states allowed to
precede the target, so concurrent or repeated writers can only move a row forward. Used for
payments (`shop.payments.status`) and broadcasts (`shop.messaging.broadcasts`)."""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from shop.db import SessionFactory, engine_of

Status = TypeVar("Status", bound=enum.Enum)


class TransitionRefused(Exception):
    def __init__(self, what: str, key: str, current: enum.Enum | None, target: enum.Enum) -> None:
        super().__init__(f"{what} {key}: {current} -> {target} is not allowed")
        self.current = current
        self.target = target


# Work that commits with a move, in its transaction: given the connection and the previous status.
Then = Callable[[AsyncConnection, Any], Awaitable[None]]


async def move(
    sessions: SessionFactory,
    model: Any,
    key: str,
    target: Status,
    allowed_from: Mapping[Status, frozenset[Status]],
    then: Then | None = None,
    **fields: Any,
) -> Status:
    """Move row `key` of `model` (an `id` and a `status` column) to `target`, setting `fields` too;
    already there is a no-op. Returns the previous status; raises TransitionRefused when `target`
    cannot follow the current one (another writer moved the row elsewhere first). `then` runs in
    the same transaction, also when the row was already there. Core statements on a connection:
    the move is on every payment's path, and a Session would cost more than the two statements."""
    what = model.__name__.lower()
    while True:
        async with engine_of(sessions).begin() as connection:
            current = await connection.scalar(select(model.status).where(model.id == key))
            if current is None or (current is not target and current not in allowed_from[target]):
                raise TransitionRefused(what, key, current, target)
            if current is not target:
                changed = await connection.execute(
                    update(model)
                    .where(model.id == key, model.status == current)
                    .values(status=target, **fields)
                )
                # Zero rows: another writer moved it between our read and write; read again.
                if changed.rowcount != 1:
                    continue
            if then is not None:
                await then(connection, current)
            return current
