"""The access card (link, copy, QR, instructions) and the subscription screen's buttons."""

from __future__ import annotations

from aiogram.types import CopyTextButton, InlineKeyboardButton, InlineKeyboardMarkup

from bot.callbacks import Link, LinkAction, Screen
from bot.keyboards.menu import back, button
from bot.texts import t


def _link_button(lang: str, key: str, action: LinkAction) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=t(lang, key), callback_data=Link(action=action).pack())


def access_card(lang: str, link: str) -> InlineKeyboardMarkup:
    copy = InlineKeyboardButton(text=t(lang, "btn_copy_link"), copy_text=CopyTextButton(text=link))
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [copy, _link_button(lang, "btn_qr", LinkAction.QR)],
            [button(lang, "btn_instructions", Screen.HELP)],
            [button(lang, "btn_menu", Screen.MENU)],
        ]
    )


def subscription(lang: str, link: str) -> InlineKeyboardMarkup:
    copy = InlineKeyboardButton(text=t(lang, "btn_copy_link"), copy_text=CopyTextButton(text=link))
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [copy, _link_button(lang, "btn_qr", LinkAction.QR)],
            [button(lang, "btn_extend", Screen.BUY), _link_button(lang, "btn_new_link", LinkAction.ROTATE)],
            [button(lang, "btn_instructions", Screen.HELP)],
            [back(lang)],
        ]
    )


def no_subscription(lang: str, expired: bool) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[[button(lang, "btn_extend" if expired else "btn_buy", Screen.BUY)], [back(lang)]]
    )


def rotate_confirm(lang: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [_link_button(lang, "btn_rotate_yes", LinkAction.ROTATE_CONFIRMED)],
            [button(lang, "btn_cancel", Screen.SUBSCRIPTION)],
        ]
    )
