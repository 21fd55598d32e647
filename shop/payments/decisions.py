"""A payment as the console's payment page shows it, and what operators decide about it.

The page: the row, the timeline (`shop.payments.timeline`), and the workflow's own view (its run's
state from Temporal and the `progress` query), with a link to the run in the Temporal UI.

The decisions go through workflows, so two operators cannot both decide: a P2P transfer through the
payment's `decide_transfer` update (the bot's path, `Checkout.review`); a payment in review through
`ResolveReviewWorkflow`, whose id is the payment's (the second start fails); the access card again
through `CustomerNoticeWorkflow` keyed by the form's action id.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote

from temporalio.client import WorkflowExecutionStatus
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from activities.operators import CustomerNoticeInput
from shop.context import AppContext
from shop.models import Payment, PaymentStatus, Plan
from shop.operators import actions, audit
from shop.operators.audit import Actor, AuditView
from shop.operators.forms import Invalid
from shop.payments import timeline
from shop.payments.checkout import Checkout
from shop.payments.timeline import Event, EventKind
from workflows.operator import (
    CustomerNoticeWorkflow,
    Resolution,
    ResolveInput,
    ResolveReviewWorkflow,
    notice_workflow_id,
    refundable,
    resolution_workflow_id,
)
from workflows.payment import PaymentWorkflow
from workflows.payment_messages import PaymentProgress, workflow_id

log = logging.getLogger(__name__)
WORKFLOW_WAIT = timedelta(seconds=3)


@dataclass(frozen=True)
class Run:
    workflow_id: str
    url: str  # the run in the Temporal UI
    state: str  # running, completed, failed... or "unknown" when Temporal did not answer
    progress: PaymentProgress | None = None
    started_at: datetime | None = None
    closed_at: datetime | None = None


@dataclass(frozen=True)
class PaymentPage:
    payment: Payment
    plan: str
    events: list[Event]
    runs: list[Run]
    audit: list[AuditView]
    refundable: bool


def run_url(ctx: AppContext, wf_id: str) -> str:
    namespace = quote(ctx.settings.temporal_namespace)
    return f"{ctx.settings.temporal_web}/namespaces/{namespace}/workflows/{quote(wf_id, safe='')}"


async def _run(ctx: AppContext, wf_id: str, query: bool) -> Run | None:
    """The run as Temporal sees it; None when there is none (never started, or past retention)."""
    if ctx.temporal is None:
        return Run(wf_id, run_url(ctx, wf_id), "unknown")
    handle = ctx.temporal.get_workflow_handle(wf_id)
    try:
        described = await handle.describe(rpc_timeout=WORKFLOW_WAIT)
    except RPCError:
        return None
    status = described.status
    progress = None
    if query and status is WorkflowExecutionStatus.RUNNING:
        try:
            progress = await asyncio.wait_for(
                handle.query(PaymentWorkflow.progress),
                WORKFLOW_WAIT.total_seconds(),
            )
        except (RPCError, TimeoutError) as error:
            log.info("payment run %s not queried: %s", wf_id, error)
    return Run(
        wf_id,
        run_url(ctx, wf_id),
        status.name.lower() if status else "unknown",
        progress,
        described.start_time,
        described.close_time,
    )


async def page(ctx: AppContext, payment_id: str) -> PaymentPage | None:
    async with ctx.sessions() as session:
        payment = await session.get(Payment, payment_id[:40])
        plan = await session.get(Plan, payment.plan_id) if payment else None
    if payment is None:
        return None
    runs = [
        await _run(ctx, workflow_id(payment.id), query=True),
        await _run(ctx, resolution_workflow_id(payment.id), query=False),
    ]
    return PaymentPage(
        payment=payment,
        plan=plan.name if plan else "",
        events=await timeline.events(ctx.sessions, payment.id),
        runs=[run for run in runs if run is not None],
        audit=await audit.for_target(ctx.sessions, f"payment:{payment.id}"),
        refundable=refundable(payment.method, payment.provider_payment_id),
    )


class PaymentDesk:
    def __init__(self, ctx: AppContext, actor: Actor) -> None:
        self.ctx = ctx
        self.actor = actor

    async def _payment(self, payment_id: str) -> Payment:
        async with self.ctx.sessions() as session:
            payment = await session.get(Payment, payment_id[:40])
        if payment is None:
            raise LookupError(payment_id)
        return payment

    async def decide_transfer(self, payment_id: str, approve: bool, reason: str) -> bool:
        """The bot's path (the payment's `decide_transfer` update): True for the decision that counts."""
        await self._payment(payment_id)
        return await Checkout(self.ctx).review(self.actor.id, payment_id, approve, "console", reason.strip())

    async def resolve(self, payment_id: str, resolution: str, reason: str) -> bool:
        """Deliver anyway, refund (where the shop can) or close a payment in review, with a reason.
        False when another decision was taken first."""
        reason = reason.strip()
        if not reason:
            raise Invalid({"reason": "required"})
        try:
            chosen = Resolution(resolution)
        except ValueError:
            raise Invalid({"resolution": "invalid"}) from None
        payment = await self._payment(payment_id)
        if payment.status is not PaymentStatus.REVIEW:
            detail = f"{chosen.value} refused: no longer in review ({payment.status.value})"
            await timeline.note(self.ctx.sessions, payment.id, EventKind.OPERATOR, detail, self._who())
            return False
        if chosen is Resolution.REFUND and not refundable(payment.method, payment.provider_payment_id):
            raise Invalid({"resolution": "not_refundable"})
        inp = ResolveInput(payment_id=payment.id, resolution=chosen, operator_id=self.actor.id, reason=reason)
        try:
            await self.ctx.require_temporal().start_workflow(
                ResolveReviewWorkflow.run,
                inp,
                id=resolution_workflow_id(payment.id),
                task_queue=self.ctx.settings.temporal_task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            )
        except WorkflowAlreadyStartedError:
            detail = f"{chosen.value} refused: already decided"
            await timeline.note(self.ctx.sessions, payment.id, EventKind.OPERATOR, detail, self._who())
            return False
        await timeline.note(
            self.ctx.sessions,
            payment.id,
            EventKind.OPERATOR,
            f"review resolved: {chosen.value} ({reason})",
            self._who(),
        )
        values = {"resolution": chosen.value, "amount": payment.amount, "currency": payment.currency}
        await audit.write(
            self.ctx.sessions,
            self.actor,
            "payment.resolve",
            f"payment:{payment.id}",
            after=values,
            reason=reason,
        )
        return True

    def _who(self) -> str:
        return f"operator:{self.actor.id}"

    async def resend_card(self, payment_id: str, action_id: str, reason: str) -> bool:
        reason = actions.checked(action_id, reason)
        payment = await self._payment(payment_id)
        if payment.status is not PaymentStatus.DELIVERED:
            raise Invalid({"form": "not_delivered"})
        notice = CustomerNoticeInput(
            user_id=payment.user_id, payment_id=payment.id, operator_id=self.actor.id
        )
        await actions.start_once(self.ctx, CustomerNoticeWorkflow.run, notice, notice_workflow_id(action_id))
        target = f"payment:{payment.id}"
        return await actions.recorded(
            self.ctx.sessions, self.actor, action_id, "payment.card", target, reason, {"card": "re-sent"}
        )
