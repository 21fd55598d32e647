"""The referral screen, the withdrawal steps, and the operators' approve/decline buttons."""

from __future__ import annotations

from aiogram.types import CopyTextButton, InlineKeyboardButton, InlineKeyboardMarkup

from bot.callbacks import Screen, Withdraw, WithdrawalDecision, WithdrawStep
from bot.keyboards.menu import back
from bot.texts import t
from shop.customers.referrals import WithdrawalView


def _step(lang: str, key: str, step: WithdrawStep) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=t(lang, key), callback_data=Withdraw(step=step).pack())


def screen(lang: str, link: str, can_withdraw: bool) -> InlineKeyboardMarkup:
    copy = InlineKeyboardButton(text=t(lang, "btn_copy_ref_link"), copy_text=CopyTextButton(text=link))
    rows = [[copy]]
    if can_withdraw:
        rows.append([_step(lang, "btn_withdraw", WithdrawStep.START)])
    rows.append([back(lang)])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def cancel(lang: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[_step(lang, "btn_cancel", WithdrawStep.CANCEL)]])


def confirm(lang: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [_step(lang, "btn_wd_send", WithdrawStep.CONFIRM)],
            [_step(lang, "btn_cancel", WithdrawStep.CANCEL)],
        ]
    )


def _decide(lang: str, key: str, withdrawal_id: int, approve: bool, listed: bool) -> InlineKeyboardButton:
    data = WithdrawalDecision(withdrawal_id=withdrawal_id, approve=approve, listed=listed)
    return InlineKeyboardButton(text=t(lang, key, id=withdrawal_id), callback_data=data.pack())


def decision(lang: str, withdrawal_id: int) -> InlineKeyboardMarkup:
    """Under a new request's message to each operator."""
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                _decide(lang, "op_approve", withdrawal_id, True, False),
                _decide(lang, "op_decline", withdrawal_id, False, False),
            ]
        ]
    )


def open_requests(lang: str, items: list[WithdrawalView]) -> InlineKeyboardMarkup:
    rows = [
        [
            _decide(lang, "btn_wd_approve_n", item.id, True, True),
            _decide(lang, "btn_wd_decline_n", item.id, False, True),
        ]
        for item in items
    ]
    rows.append([back(lang, Screen.ADMIN)])
    return InlineKeyboardMarkup(inline_keyboard=rows)
