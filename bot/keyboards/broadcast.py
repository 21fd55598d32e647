"""Buttons of an operator broadcast: composing, the preview's Send / Cancel, a running one's
progress and Stop; and the operator's own URL button that goes out with every copy."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callbacks import BroadcastAction, Broadcasting
from bot.texts import t


def url_markup(text: str | None, url: str | None) -> InlineKeyboardMarkup | None:
    if not text or not url:
        return None
    return InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text=text, url=url)]])


def _button(lang: str, key: str, action: BroadcastAction, broadcast_id: str = "") -> InlineKeyboardButton:
    data = Broadcasting(action=action, broadcast_id=broadcast_id).pack()
    return InlineKeyboardButton(text=t(lang, key), callback_data=data)


def start_button(lang: str) -> InlineKeyboardButton:
    return _button(lang, "btn_broadcast", BroadcastAction.NEW)


def composing(lang: str, offer_no_button: bool = False) -> InlineKeyboardMarkup:
    rows = [[_button(lang, "btn_bc_no_button", BroadcastAction.NO_BUTTON)]] if offer_no_button else []
    rows.append([_button(lang, "btn_bc_cancel", BroadcastAction.CANCEL)])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def confirm(lang: str, broadcast_id: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                _button(lang, "btn_bc_send", BroadcastAction.SEND, broadcast_id),
                _button(lang, "btn_bc_cancel", BroadcastAction.CANCEL, broadcast_id),
            ]
        ]
    )


def running(lang: str, broadcast_id: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [_button(lang, "btn_bc_progress", BroadcastAction.PROGRESS, broadcast_id)],
            [_button(lang, "btn_bc_stop", BroadcastAction.CANCEL, broadcast_id)],
        ]
    )
