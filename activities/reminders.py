"""Reminder activities: claim the reminders due now, send a batch of them, clean old rows."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from aiogram import Bot
from pydantic import BaseModel
from temporalio import activity

from activities.telegram import retried_after_429
from bot.reminder_messages import reminder_text, renew_keyboard
from shop.customers.users import mark_bot_blocked
from shop.db import SessionFactory
from shop.messaging import reminders
from shop.messaging.pacing import RateLimiter
from shop.messaging.reminders import ReminderPolicy
from shop.messaging.telegram_send import SendOutcome, send_paced
from shop.models import Product, ReminderStatus, utcnow
from shop.storefront.store import Storefront


class ClaimInput(BaseModel):
    now: datetime | None = None  # tests move the clock; Schedules leave it to the activity


class ClaimResult(BaseModel):
    reminder_ids: list[int]
    telegram_configured: bool


class SendBatchInput(BaseModel):
    reminder_ids: list[int]
    now: datetime | None = None


class SendOneInput(BaseModel):
    reminder_id: int
    now: datetime | None = None


class SendCounts(BaseModel):
    sent: int = 0
    failed: int = 0
    blocked: int = 0
    skipped: int = 0

    def __add__(self, other: SendCounts) -> SendCounts:
        fields = SendCounts.model_fields
        return SendCounts(**{name: getattr(self, name) + getattr(other, name) for name in fields})


class CleanupInput(BaseModel):
    keep_days: int
    now: datetime | None = None


SEND_CONCURRENCY = 8

_COUNTER = {
    SendOutcome.SENT: ReminderStatus.SENT,
    SendOutcome.FAILED: ReminderStatus.FAILED,
    SendOutcome.BLOCKED: ReminderStatus.BLOCKED,
}


class ReminderActivities:
    def __init__(
        self,
        sessions: SessionFactory,
        storefront: Storefront,
        grace: timedelta,
        bot: Bot | None,
        limiter: RateLimiter,
    ) -> None:
        self.sessions = sessions
        self.storefront = storefront
        self.grace = grace
        self.bot = bot
        self.limiter = limiter

    async def _policy(self) -> ReminderPolicy:
        # The marks are the owner's (changed in the console without a restart); the grace is the
        # environment's.
        return (await self.storefront.current()).reminder_policy(self.grace)

    @activity.defn
    async def claim_reminders(self, inp: ClaimInput) -> ClaimResult:
        if self.bot is None:
            activity.logger.info("reminders not claimed: TELEGRAM_BOT_TOKEN is not set")
            return ClaimResult(reminder_ids=[], telegram_configured=False)
        policy, now = await self._policy(), inp.now or utcnow()
        ids: set[int] = set()
        for product in Product:  # each product's expiry has its own cycle of reminders
            ids.update(await reminders.claim_due(self.sessions, policy, now, product))
        return ClaimResult(reminder_ids=sorted(ids), telegram_configured=True)

    @activity.defn
    async def send_reminders(self, inp: SendBatchInput) -> SendCounts:
        """Sends each claimed reminder once; a retry skips the ones already recorded as sent."""
        assert self.bot is not None, "claim_reminders returns nothing without a bot"
        counts = SendCounts()
        in_flight = asyncio.Semaphore(SEND_CONCURRENCY)

        async def send(reminder_id: int) -> None:
            async with in_flight:
                await self._send_one(reminder_id, inp.now, counts)

        # A few sends overlap so a round trip does not cost a permit; the limiter spaces them.
        # The worker's Liveness interceptor heartbeats meanwhile, so a long flood wait is not taken
        # for a dead worker.
        async with asyncio.TaskGroup() as group:
            for reminder_id in inp.reminder_ids:
                group.create_task(send(reminder_id))
        return counts

    @activity.defn
    async def send_reminder(self, inp: SendOneInput) -> SendCounts:
        """One reminder, one message: the activity of the bot's paced queue. A retry after the send
        was recorded skips it; counts are 1 in the field of its outcome."""
        assert self.bot is not None, "claim_reminders returns nothing without a bot"
        counts = SendCounts()
        with retried_after_429():
            await self._send_one(inp.reminder_id, inp.now, counts, requeue=True)
        return counts

    async def _send_one(
        self, reminder_id: int, fixed_now: datetime | None, counts: SendCounts, requeue: bool = False
    ) -> None:
        assert self.bot is not None
        now = fixed_now or utcnow()
        outgoing = await reminders.load_outgoing(self.sessions, await self._policy(), reminder_id, now)
        if outgoing is None:
            counts.skipped += 1
            return
        text = reminder_text(
            outgoing.language, outgoing.mark, outgoing.expires_at, outgoing.has_paid, now, outgoing.product
        )
        keyboard = renew_keyboard(outgoing.language, outgoing.product)
        outcome, error = await send_paced(self.bot, self.limiter, outgoing.user_id, text, keyboard, requeue)
        await reminders.record(self.sessions, reminder_id, _COUNTER[outcome], now, error)
        if outcome is SendOutcome.BLOCKED:
            await mark_bot_blocked(self.sessions, outgoing.user_id, now)
        setattr(counts, outcome.value, getattr(counts, outcome.value) + 1)

    @activity.defn
    async def clean_reminders(self, inp: CleanupInput) -> int:
        now = inp.now or utcnow()
        policy = await self._policy()
        return await reminders.delete_finished(self.sessions, policy, now, timedelta(days=inp.keep_days))
