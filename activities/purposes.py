"""What a paid payment delivers when it does not buy days for its payer: a top-up (money on the
balance) or a gift (a code to pass on). One idempotent activity, keyed by the payment; and the
payer's message about it."""

from __future__ import annotations

from html import escape

from pydantic import BaseModel
from temporalio import activity

from bot.texts import price, t
from shop.balance import ledger
from shop.db import SessionFactory
from shop.gifts import store as gifts
from shop.models import BalanceKind, Payment, PaymentPurpose, User
from shop.settings import Settings
from shop.subscription.deeplinks import bot_link


class FulfilInput(BaseModel):
    payment_id: str


class PurposeActivities:
    def __init__(self, sessions: SessionFactory) -> None:
        self.sessions = sessions

    @activity.defn
    async def fulfil(self, inp: FulfilInput) -> str:
        """Credits the top-up or mints the gift, once per payment; returns what it made."""
        async with self.sessions() as session:
            payment = await session.get(Payment, inp.payment_id)
        if payment is None:
            raise LookupError(inp.payment_id)
        if payment.purpose is PaymentPurpose.TOPUP:
            key, actor = ledger.topup_key(payment.id), f"payment:{payment.method.value}"
            await ledger.record(self.sessions, payment.user_id, BalanceKind.TOPUP, payment.amount, key, actor)
            return f"topup {payment.amount}"
        if payment.purpose is PaymentPurpose.GIFT:
            return f"gift {(await gifts.mint(self.sessions, payment.id)).code}"
        raise ValueError(f"payment {payment.id} buys a subscription")


async def delivered_text(sessions: SessionFactory, settings: Settings, payment: Payment, user: User) -> str:
    lang = user.language
    if payment.purpose is PaymentPurpose.TOPUP:
        now = await ledger.balance(sessions, user.id)
        return t(lang, "topup_done", amount=price(payment.amount, "RUB"), balance=price(now, "RUB"))
    gift = await gifts.mint(sessions, payment.id)
    start = f"{gifts.START_PREFIX}{gift.code}"
    link = (
        bot_link(settings.telegram_bot_username, start)
        if settings.telegram_bot_username
        else f"/start {start}"
    )
    return t(lang, "gift_ready", plan=escape(gift.plan_name), days=gift.days, code=gift.code, link=link)
