"""Operator activities: what an operator asks the shop to tell a customer from the console (a
message, the access card again), sent through the worker's Telegram gateway at the bot's pace."""

from __future__ import annotations

import logging

from pydantic import BaseModel
from temporalio import activity

from activities.payments import Telegram
from shop.customers.users import access_of, get_customer
from shop.db import SessionFactory
from shop.payments.timeline import EventKind, note

log = logging.getLogger(__name__)


class CustomerNoticeInput(BaseModel):
    user_id: int
    text: str = ""  # a message; empty: the access card
    payment_id: str | None = None  # the payment whose card is re-sent, for its timeline
    operator_id: int = 0


class OperatorActivities:
    def __init__(self, sessions: SessionFactory, telegram: Telegram | None) -> None:
        self.sessions = sessions
        self.telegram = telegram

    @activity.defn
    async def tell_customer(self, inp: CustomerNoticeInput) -> bool:
        """True when Telegram took it; False when it can never go (no bot, blocked, unknown user)."""
        customer = await get_customer(self.sessions, inp.user_id)
        if self.telegram is None or customer is None:
            log.warning("operator notice to %s not sent: no bot or no such customer", inp.user_id)
            return False
        if inp.text:
            return await self.telegram.send(inp.user_id, inp.text)
        access = await access_of(self.sessions, inp.user_id)
        sent = await self.telegram.send_access(inp.user_id, customer.language, access)
        if inp.payment_id:
            outcome = "sent" if sent else "not delivered"
            detail = f"access card re-sent by operator {inp.operator_id}: {outcome}"
            await note(self.sessions, inp.payment_id, EventKind.NOTICE, detail, f"operator:{inp.operator_id}")
        return sent
