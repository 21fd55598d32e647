"""How a ticket looks to operators: the topic's name and the summary card that opens it."""

from __future__ import annotations

from html import escape

from bot.delivery import access_status, servers_text
from bot.texts import date, price, t
from shop.customers.users import Customer
from shop.settings import Settings
from shop.support.summary import CustomerSummary

MAX_TOPIC_NAME = 128  # Bot API createForumTopic: 1-128 characters


def topic_name(lang: str, customer: Customer) -> str:
    """ "Name @username (id)"; the name is cut, never the id, to fit Telegram's limit."""
    username = f" @{customer.username}" if customer.username else ""
    tail = t(lang, "desk_topic", name="", username=username, id=customer.id)
    name = (customer.full_name or "?")[: MAX_TOPIC_NAME - len(tail)]
    return t(lang, "desk_topic", name=name, username=username, id=customer.id)


def console_link(settings: Settings, user_id: int) -> str:
    return f"{settings.base_url}/console/customers/{user_id}"


def summary_card(lang: str, summary: CustomerSummary, settings: Settings) -> str:
    customer, access = summary.customer, summary.access
    payments = "\n".join(
        t(
            lang,
            "desk_payment_line",
            date=date(line.created_at),
            amount=price(line.amount, line.currency),
            status=line.status.value,
            id=escape(line.id),
        )
        for line in summary.payments
    )
    return t(
        lang,
        "desk_card",
        name=escape(customer.full_name),
        username=f" @{escape(customer.username)}" if customer.username else "",
        id=customer.id,
        locale=customer.language,
        banned=t(lang, "desk_banned_mark") if customer.banned else "",
        status=access_status(lang, access),
        servers=servers_text(lang, access),
        payments=payments or t(lang, "desk_no_payments"),
        invited=summary.invited,
        balance=price(summary.referral_balance, "RUB"),
        referrer=t(lang, "desk_referrer", id=summary.referrer_id) if summary.referrer_id else "",
        console=escape(console_link(settings, customer.id)),
    )
