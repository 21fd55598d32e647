"""The operator's menu, a customer's card with day adjustments and ban, the review list, and the
buttons under a payment's message to the operators."""

from __future__ import annotations

import secrets
from urllib.parse import quote

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callbacks import Admin, AdminAction, ListedReview, Review
from bot.keyboards import broadcast
from bot.keyboards.menu import back
from bot.texts import t
from shop.customers.stats import ReviewItem
from shop.settings import Settings
from workflows.payment_messages import workflow_id

ADJUSTMENTS = (1, 7, 30, -1, -7)


def _admin(lang: str, key: str, action: AdminAction, **fields: object) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=t(lang, key), callback_data=Admin(action=action, **fields).pack())


def menu(lang: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [_admin(lang, "btn_stats", AdminAction.STATS)],
            [_admin(lang, "btn_find", AdminAction.FIND)],
            [_admin(lang, "btn_reviews", AdminAction.REVIEWS)],
            [_admin(lang, "btn_withdrawals", AdminAction.WITHDRAWALS)],
            [broadcast.start_button(lang)],
            [_admin(lang, "btn_console", AdminAction.CONSOLE)],
            [back(lang)],
        ]
    )


def customer(lang: str, user_id: int, banned: bool) -> InlineKeyboardMarkup:
    """A fresh nonce per rendering: a double tap of one button repeats its grant key, so it applies once."""
    nonce = secrets.token_urlsafe(6)
    days = [
        InlineKeyboardButton(
            text=f"{amount:+d}d",
            callback_data=Admin(action=AdminAction.DAYS, user_id=user_id, days=amount, nonce=nonce).pack(),
        )
        for amount in ADJUSTMENTS
    ]
    ban = (
        _admin(lang, "btn_unban", AdminAction.UNBAN, user_id=user_id)
        if banned
        else _admin(lang, "btn_ban", AdminAction.BAN, user_id=user_id)
    )
    return InlineKeyboardMarkup(inline_keyboard=[days[:3], days[3:], [ban], [back(lang)]])


def workflow_url(settings: Settings, payment_id: str) -> str:
    """The payment's workflow in the Temporal Web UI."""
    namespace = quote(settings.temporal_namespace, safe="")
    return (
        f"{settings.temporal_web}/namespaces/{namespace}/workflows/{quote(workflow_id(payment_id), safe='')}"
    )


def _workflow_button(lang: str, settings: Settings, payment_id: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        text=t(lang, "btn_workflow", id=payment_id[:8]), url=workflow_url(settings, payment_id)
    )


def reviews(lang: str, items: list[ReviewItem], settings: Settings) -> InlineKeyboardMarkup:
    """Each payment's workflow; a transfer waiting for a decision gets Approve / Decline before it."""
    rows = []
    for item in items:
        if item.awaiting_decision:
            short = item.payment_id[:8]
            rows.append(
                [
                    InlineKeyboardButton(
                        text=t(lang, key, id=short),
                        callback_data=ListedReview(payment_id=item.payment_id, approve=approve).pack(),
                    )
                    for key, approve in (("btn_approve_short", True), ("btn_decline_short", False))
                ]
            )
        rows.append([_workflow_button(lang, settings, item.payment_id)])
    rows.append([back(lang)])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def payment_notice(lang: str, settings: Settings, payment_id: str, decide: bool) -> InlineKeyboardMarkup:
    """Under a payment's message to the operators: its workflow, and approve/decline for a P2P transfer."""
    rows = [[_workflow_button(lang, settings, payment_id)]]
    if decide:
        decisions = [
            InlineKeyboardButton(
                text=t(lang, key), callback_data=Review(payment_id=payment_id, approve=approve).pack()
            )
            for key, approve in (("op_approve", True), ("op_decline", False))
        ]
        rows.insert(0, decisions)
    return InlineKeyboardMarkup(inline_keyboard=rows)
