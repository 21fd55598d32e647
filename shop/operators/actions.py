"""Console actions done once: each form carries an action id minted when the page was drawn; the
id is claimed (`operator_actions`, primary key) in the transaction that writes the audit entry, and
for a change the database holds, the change too. A double click, a resent form or a second tab
with the same form claims nothing the second time: nothing changes and nothing is audited again.
"""

from __future__ import annotations

import contextlib
import re
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from shop.context import AppContext
from shop.db import SessionFactory
from shop.models import OperatorAction
from shop.operators import audit
from shop.operators.audit import Actor
from shop.operators.forms import Invalid

ACTION_ID = re.compile(r"^[A-Za-z0-9_-]{8,32}$")
MAX_REASON = 500
# (before, after) for the audit entry, or None: nothing to change (e.g. already banned).
Change = tuple[dict[str, Any] | None, dict[str, Any] | None] | None


def new_action_id() -> str:
    return secrets.token_urlsafe(12)


def checked(action_id: str, reason: str) -> str:
    """The reason, stripped; a malformed action id or an empty reason is refused, nothing done."""
    reason = reason.strip()
    if not ACTION_ID.match(action_id):
        raise Invalid({"form": "stale"})
    if not reason:
        raise Invalid({"reason": "required"})
    if len(reason) > MAX_REASON:
        raise Invalid({"reason": "too_long"})
    return reason


async def once(
    sessions: SessionFactory,
    actor: Actor,
    action_id: str,
    action: str,
    target: str,
    reason: str,
    change: Callable[[AsyncSession], Awaitable[Change]],
) -> bool:
    """Claims `action_id`, runs `change` and writes the audit entry, all in one transaction. False
    when the id was claimed before (nothing runs). `change` returning None audits nothing."""
    try:
        async with sessions() as session, session.begin():
            session.add(OperatorAction(id=action_id, operator_id=actor.id, action=action, target=target))
            await session.flush()  # the claim first: a repeat stops here, before any change
            made = await change(session)
            if made is not None:
                audit.record(session, actor, action, target, made[0], made[1], reason)
    except IntegrityError:
        return False
    return True


async def start_once(ctx: AppContext, run: Any, arg: BaseModel, workflow_id: str) -> None:
    """Starts the workflow run of an action's id, or joins it while it runs; a run of that id that
    already closed is this action done before (a resent form): nothing starts again."""
    with contextlib.suppress(WorkflowAlreadyStartedError):
        await ctx.require_temporal().start_workflow(
            run,
            arg,
            id=workflow_id,
            task_queue=ctx.settings.temporal_task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        )


async def recorded(
    sessions: SessionFactory,
    actor: Actor,
    action_id: str,
    action: str,
    target: str,
    reason: str,
    after: dict[str, Any],
) -> bool:
    """For an action a workflow does (idempotent by an id derived from `action_id`): claims the id
    and audits it once it was accepted. False: a repeat, already audited."""

    async def nothing_more(_session: AsyncSession) -> Change:
        return None, after

    return await once(sessions, actor, action_id, action, target, reason, nothing_more)
