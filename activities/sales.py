"""The operators' sales digest: one message per operator per window instead of one per sale, so a
burst of payments spends Telegram's pace on customers' cards (issue 14)."""

from __future__ import annotations

import logging
from datetime import datetime

from pydantic import BaseModel
from temporalio import activity

from activities.payments import Telegram
from bot.texts import price, t
from shop.customers.users import operator_languages
from shop.db import SessionFactory
from shop.messaging.telegram_send import BotMessage
from shop.payments.sales import Sale, sales_between, totals
from shop.settings import Settings

log = logging.getLogger(__name__)

# Lines listed one by one; past it the digest says how many more.
LISTED = 20


class SalesWindow(BaseModel):
    since: datetime
    until: datetime


class DigestSent(BaseModel):
    sales: int
    operators: int  # how many operators it went to (0: nothing sold, or the bot is not configured)


class SalesDigest(BaseModel):
    """The window's digest, one message per operator, each sent on the bot's paced queue."""

    sales: int
    messages: list[BotMessage]


def digest_text(language: str, window: SalesWindow, sales: list[Sale]) -> str:
    lines = [
        t(
            language,
            "op_sales_digest",
            count=len(sales),
            since=window.since.strftime("%d.%m %H:%M"),
            until=window.until.strftime("%H:%M UTC"),
            totals=", ".join(price(amount, currency) for currency, amount in totals(sales).items()),
        )
    ]
    for sale in sales[:LISTED]:
        lines.append(
            t(
                language,
                "op_sales_digest_line",
                payment_id=sale.payment_id,
                amount=price(sale.amount, sale.currency),
                method=sale.method.value,
                user_id=sale.user_id,
            )
        )
    if len(sales) > LISTED:
        lines.append(t(language, "op_sales_digest_more", count=len(sales) - LISTED))
    return "\n".join(lines)


class SalesDigestActivities:
    def __init__(self, sessions: SessionFactory, settings: Settings, telegram: Telegram | None) -> None:
        self.sessions = sessions
        self.settings = settings
        self.telegram = telegram

    @activity.defn
    async def compose_sales_digest(self, window: SalesWindow) -> SalesDigest:
        """Nothing sold, no message. Without a bot the digest is logged, not composed."""
        sales = await sales_between(self.sessions, window.since, window.until)
        if not sales or self.telegram is None:
            if sales:
                log.warning("sales digest of %d sale(s) not sent: the bot is not configured", len(sales))
            return SalesDigest(sales=len(sales), messages=[])
        operators = await operator_languages(self.sessions, self.settings)
        return SalesDigest(
            sales=len(sales),
            messages=[
                BotMessage(chat_id=admin_id, text=digest_text(language, window, sales), what="sales digest")
                for admin_id, language in operators.items()
            ],
        )

    @activity.defn
    async def send_sales_digest(self, window: SalesWindow) -> DigestSent:
        """Runs begun before the digest went through the paced queue (`compose_sales_digest`).
        Nothing sold, nothing sent. The operators already told are kept in the heartbeat, so a
        retry (one operator's send failed) tells only the others; a worker dying right after a send
        may still repeat that one message, as with every Telegram notice. The window itself is
        reported by one run only (workflows.sales_digest)."""
        sales = await sales_between(self.sessions, window.since, window.until)
        if not sales:
            return DigestSent(sales=0, operators=0)
        if self.telegram is None:
            log.warning("sales digest of %d sale(s) not sent: the bot is not configured", len(sales))
            return DigestSent(sales=len(sales), operators=0)
        operators = await operator_languages(self.sessions, self.settings)
        details = activity.info().heartbeat_details
        told: list[int] = list(details[0]) if details else []
        for admin_id, language in operators.items():
            if admin_id in told:
                continue
            await self.telegram.send(admin_id, digest_text(language, window, sales))
            told.append(admin_id)
            activity.heartbeat(told)
        return DigestSent(sales=len(sales), operators=len(operators))
