"""The operator's menu, a customer's card with day adjustments and ban, and the review list."""

from __future__ import annotations

import secrets

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callbacks import Admin, AdminAction, Review
from bot.keyboards.menu import back
from bot.texts import t
from shop.stats import ReviewItem

ADJUSTMENTS = (1, 7, 30, -1, -7)


def _admin(lang: str, key: str, action: AdminAction, **fields: object) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=t(lang, key), callback_data=Admin(action=action, **fields).pack())


def menu(lang: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [_admin(lang, "btn_stats", AdminAction.STATS)],
            [_admin(lang, "btn_find", AdminAction.FIND)],
            [_admin(lang, "btn_reviews", AdminAction.REVIEWS)],
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


def reviews(lang: str, items: list[ReviewItem], can_decide: bool, temporal_ui: str) -> InlineKeyboardMarkup:
    rows = []
    for item in items:
        short = item.payment_id[:8]
        row = []
        if can_decide:
            row += [
                InlineKeyboardButton(
                    text=t(lang, "btn_approve", id=short),
                    callback_data=Review(payment_id=item.payment_id, approve=True).pack(),
                ),
                InlineKeyboardButton(
                    text=t(lang, "btn_decline", id=short),
                    callback_data=Review(payment_id=item.payment_id, approve=False).pack(),
                ),
            ]
        rows.append(row)
        rows.append(
            [
                InlineKeyboardButton(
                    text=t(lang, "btn_workflow", id=short),
                    url=f"{temporal_ui}/workflows/payment:{item.payment_id}",
                )
            ]
        )
    rows = [row for row in rows if row]
    rows.append([back(lang)])
    return InlineKeyboardMarkup(inline_keyboard=rows)
