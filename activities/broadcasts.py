"""Broadcast activities: take the snapshot of recipients, copy the operator's message to one batch
of them at Telegram's pace, and close the broadcast with the operator's report."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import Bot
from pydantic import BaseModel
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.telegram import retried_after_429
from bot.broadcast_messages import report_text
from bot.keyboards.broadcast import url_markup
from shop.customers.users import get_customer, mark_bot_blocked
from shop.db import SessionFactory
from shop.messaging import broadcasts
from shop.messaging.broadcasts import BroadcastProgress, Draft
from shop.messaging.pacing import RateLimiter
from shop.messaging.telegram_send import SendOutcome, copy_paced, send_paced
from shop.models import BroadcastStatus, DeliveryStatus, utcnow
from shop.transitions import TransitionRefused

SEND_CONCURRENCY = 8
STOP_CHECK_SECONDS = 1.0
OUTCOMES = {
    SendOutcome.SENT: DeliveryStatus.SENT,
    SendOutcome.FAILED: DeliveryStatus.FAILED,
    SendOutcome.BLOCKED: DeliveryStatus.BLOCKED,
}


class BroadcastRef(BaseModel):
    broadcast_id: str


class SnapshotResult(BaseModel):
    started: bool  # False: cancelled before it began, nobody is sent anything
    total: int = 0
    recipients: int = 0
    skipped: int = 0  # banned
    blocked_before: int = 0  # had blocked the bot: not tried


class BatchInput(BaseModel):
    broadcast_id: str
    after_user_id: int
    limit: int


class BatchResult(BaseModel):
    """The recipients of this range as they stand after the batch, whoever sent them (an earlier,
    crashed attempt too), so the workflow's sums stay exact across retries."""

    last_user_id: int
    done: bool
    stopped: bool = False  # the operator stopped the broadcast: the rest stays unsent
    sent: int = 0
    failed: int = 0
    blocked: int = 0


class BatchPlan(BaseModel):
    """A range of recipients: those still to send, and the ones already final (an earlier attempt
    or run sent them), so the workflow's sums stay exact across retries."""

    last_user_id: int
    done: bool
    pending: list[int]
    sent: int = 0
    failed: int = 0
    blocked: int = 0


class RecipientRef(BaseModel):
    broadcast_id: str
    user_id: int


class FinishInput(BaseModel):
    broadcast_id: str
    canceled: bool


class _StillRunning:
    """Stop is the broadcast's status in the database: re-read at most once a second while sending,
    so a batch stops within a second and never cuts a copy off between Telegram and its record."""

    def __init__(self, sessions: SessionFactory, broadcast_id: str) -> None:
        self.sessions = sessions
        self.broadcast_id = broadcast_id
        self.running = True
        self.checked = -STOP_CHECK_SECONDS

    async def __call__(self) -> bool:
        now = time.monotonic()
        if self.running and now - self.checked >= STOP_CHECK_SECONDS:
            self.checked = now
            self.running = await broadcasts.is_running(self.sessions, self.broadcast_id)
        return self.running


class BroadcastActivities:
    def __init__(self, sessions: SessionFactory, bot: Bot | None, limiter: RateLimiter) -> None:
        self.sessions = sessions
        self.bot = bot
        self.limiter = limiter

    def _bot(self) -> Bot:
        if self.bot is None:
            raise ApplicationError(
                "the worker has no TELEGRAM_BOT_TOKEN", type="BotMissing", non_retryable=True
            )
        return self.bot

    async def _draft(self, broadcast_id: str) -> Draft:
        draft = await broadcasts.get_draft(self.sessions, broadcast_id)
        if draft is None:
            raise ApplicationError(
                f"no broadcast {broadcast_id}", type="UnknownBroadcast", non_retryable=True
            )
        return draft

    @activity.defn
    async def start_broadcast(self, inp: BroadcastRef) -> SnapshotResult:
        await self._draft(inp.broadcast_id)
        snapshot = await broadcasts.take_snapshot(self.sessions, inp.broadcast_id, utcnow())
        if snapshot is None:
            return SnapshotResult(started=False)
        return SnapshotResult(
            started=True,
            total=snapshot.total,
            recipients=snapshot.recipients,
            skipped=snapshot.skipped_banned,
            blocked_before=snapshot.known_blocked,
        )

    async def _copy(
        self,
        bot: Bot,
        draft: Draft,
        markup: Any,
        broadcast_id: str,
        user_id: int,
        wanted: Callable[[], Awaitable[bool]] | None = None,
        requeue: bool = False,
    ) -> DeliveryStatus:
        """PENDING: withdrawn, the operator stopped the broadcast while this copy waited its turn."""
        source_chat, source = draft.source_chat_id, draft.source_message_id
        outcome, error = await copy_paced(
            bot, self.limiter, user_id, source_chat, source, markup, wanted, requeue
        )
        if outcome is SendOutcome.WITHDRAWN:
            return DeliveryStatus.PENDING
        now = utcnow()
        await broadcasts.record(self.sessions, broadcast_id, user_id, OUTCOMES[outcome], now, error)
        if outcome is SendOutcome.BLOCKED:
            await mark_bot_blocked(self.sessions, user_id, now)
        return OUTCOMES[outcome]

    @activity.defn
    async def send_broadcast_batch(self, inp: BatchInput) -> BatchResult:
        """A whole batch in one activity, paced by this worker alone: runs begun before the bot's
        paced queue still call it."""
        bot = self._bot()
        draft = await self._draft(inp.broadcast_id)
        markup = url_markup(draft.button_text, draft.button_url)
        # One row more than the batch tells whether another batch follows.
        rows = await broadcasts.batch(self.sessions, inp.broadcast_id, inp.after_user_id, inp.limit + 1)
        done, rows = len(rows) <= inp.limit, rows[: inp.limit]
        final = dict(rows)
        in_flight = asyncio.Semaphore(SEND_CONCURRENCY)
        still_running = _StillRunning(self.sessions, inp.broadcast_id)

        async def send(user_id: int) -> None:
            async with in_flight:
                if await still_running():
                    final[user_id] = await self._copy(bot, draft, markup, inp.broadcast_id, user_id)

        # A few copies overlap so a round trip does not cost a permit; the limiter spaces them.
        async with asyncio.TaskGroup() as group:
            for user_id, status in rows:
                if status is DeliveryStatus.PENDING:
                    group.create_task(send(user_id))
        counted = list(final.values())
        return BatchResult(
            last_user_id=rows[-1][0] if rows else inp.after_user_id,
            done=done,
            stopped=not still_running.running,
            sent=counted.count(DeliveryStatus.SENT),
            failed=counted.count(DeliveryStatus.FAILED),
            blocked=counted.count(DeliveryStatus.BLOCKED),
        )

    @activity.defn
    async def plan_broadcast_batch(self, inp: BatchInput) -> BatchPlan:
        """The next range of recipients; the copies go out one activity each (`copy_to_recipient`)."""
        await self._draft(inp.broadcast_id)
        rows = await broadcasts.batch(self.sessions, inp.broadcast_id, inp.after_user_id, inp.limit + 1)
        done, rows = len(rows) <= inp.limit, rows[: inp.limit]
        statuses = [status for _, status in rows]
        return BatchPlan(
            last_user_id=rows[-1][0] if rows else inp.after_user_id,
            done=done,
            pending=[user_id for user_id, status in rows if status is DeliveryStatus.PENDING],
            sent=statuses.count(DeliveryStatus.SENT),
            failed=statuses.count(DeliveryStatus.FAILED),
            blocked=statuses.count(DeliveryStatus.BLOCKED),
        )

    @activity.defn
    async def copy_to_recipient(self, inp: RecipientRef) -> DeliveryStatus:
        """One copy, one message: the activity of the bot's paced queue. PENDING: not sent, the
        operator stopped the broadcast. A retry after the copy was recorded sends nothing."""
        status = await broadcasts.recipient_status(self.sessions, inp.broadcast_id, inp.user_id)
        if status is None:
            raise ApplicationError(
                f"{inp.user_id} is not a recipient", type="UnknownRecipient", non_retryable=True
            )
        if status is not DeliveryStatus.PENDING:
            return status
        draft = await self._draft(inp.broadcast_id)
        markup = url_markup(draft.button_text, draft.button_url)
        wanted = _StillRunning(self.sessions, inp.broadcast_id)
        with retried_after_429():
            return await self._copy(self._bot(), draft, markup, inp.broadcast_id, inp.user_id, wanted, True)

    @activity.defn
    async def finish_broadcast(self, inp: FinishInput) -> BroadcastProgress:
        """Closes the broadcast (finished, or canceled by the operator) and sends the report, with
        the numbers from the recipients' rows."""
        target = BroadcastStatus.CANCELED if inp.canceled else BroadcastStatus.FINISHED
        try:
            await broadcasts.transition(self.sessions, inp.broadcast_id, target, finished_at=utcnow())
        except TransitionRefused as refused:  # cancelled meanwhile; it stays so
            activity.logger.info("broadcast %s: %s", inp.broadcast_id, refused)
        draft = await self._draft(inp.broadcast_id)
        snapshot = await broadcasts.snapshot_of(self.sessions, inp.broadcast_id)
        outcomes = await broadcasts.outcomes(self.sessions, inp.broadcast_id)
        progress = BroadcastProgress(
            state=draft.status.value,
            sent=outcomes.sent,
            failed=outcomes.failed,
            blocked=outcomes.blocked,
        )
        if snapshot is None:  # cancelled as a draft: the operator saw that already
            return progress
        progress.total, progress.recipients = snapshot.total, snapshot.recipients
        progress.skipped, progress.blocked_before = snapshot.skipped_banned, snapshot.known_blocked
        if await broadcasts.report_due(self.sessions, inp.broadcast_id):
            operator = await get_customer(self.sessions, draft.operator_id)
            language = operator.language if operator else "ru"
            with retried_after_429():  # on the bot's paced queue
                outcome, reason = await send_paced(
                    self._bot(),
                    self.limiter,
                    draft.operator_id,
                    report_text(language, progress),
                    requeue=True,
                )
            if outcome is not SendOutcome.SENT:  # the operator blocked the bot: nothing to retry
                activity.logger.warning("broadcast %s: report not sent: %s", inp.broadcast_id, reason)
            await broadcasts.mark_reported(self.sessions, inp.broadcast_id, utcnow())
        return progress
