"""Referral activities, run by `PaymentWorkflow` after a delivery: write the referrer's reward (once
per payment) and tell the referrer about it."""

from __future__ import annotations

import logging
from decimal import Decimal
from html import escape

from pydantic import BaseModel
from temporalio import activity

from activities.payments import Telegram
from activities.telegram import retried_after_429
from bot.texts import price, t
from shop.balance.referral import move_referral_balance
from shop.customers import referrals
from shop.db import SessionFactory
from shop.payments.timeline import EventKind, note
from shop.storefront.store import Storefront

log = logging.getLogger(__name__)


class RewardInput(BaseModel):
    payment_id: str


class RewardResult(BaseModel):
    referrer_id: int
    amount: Decimal
    applied: bool  # False: written by an earlier attempt or run


class ReferralActivities:
    def __init__(self, sessions: SessionFactory, storefront: Storefront, telegram: Telegram | None) -> None:
        self.sessions = sessions
        self.storefront = storefront
        self.telegram = telegram

    @activity.defn
    async def reward_referrer(self, inp: RewardInput) -> RewardResult | None:
        """Idempotent by the payment id: a retry, a re-run or a duplicate writes nothing more."""
        owner = await self.storefront.current()
        reward = await referrals.record_reward(self.sessions, owner, inp.payment_id)
        if reward is None:
            return None
        if reward.applied:
            detail = f"{reward.amount} RUB to referrer {reward.referrer_id}"
            await note(self.sessions, inp.payment_id, EventKind.REFERRAL_REWARD, detail)
        if owner.referral_to_balance:  # spendable at once; a retry finds nothing more to move
            await move_referral_balance(self.sessions, reward.referrer_id)
        return RewardResult(referrer_id=reward.referrer_id, amount=reward.amount, applied=reward.applied)

    @activity.defn
    async def notify_referrer(self, inp: RewardInput) -> bool:
        """Sends "+X ₽" once the message went (or can never go); a retry after a send whose record
        failed may repeat it. False when there was nothing to send."""
        notice = await referrals.reward_notice(self.sessions, inp.payment_id)
        if notice is None:
            return False
        if self.telegram is None:
            log.warning("reward %s: the referrer is not told, the bot is not configured", inp.payment_id)
            return False
        amount = price(notice.amount, "RUB")
        text = t(notice.language, "ref_reward_notice", invitee=escape(notice.invitee), amount=amount)
        with retried_after_429():  # the activity of the bot's paced queue
            await self.telegram.send(notice.referrer_id, text, requeue=True)
        await referrals.mark_notified(self.sessions, inp.payment_id)
        return True
