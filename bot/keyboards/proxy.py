"""The Telegram proxy's buttons: its plans, and its card's Connect (an https redirect to
`tg://proxy…`) and Copy."""

from __future__ import annotations

from aiogram.types import CopyTextButton, InlineKeyboardButton, InlineKeyboardMarkup

from bot.callbacks import Screen
from bot.keyboards.buy import plan_button
from bot.keyboards.menu import back, button
from bot.texts import t
from shop.payments.plans import PlanView


def link_row(lang: str, link: str, connect_url: str) -> list[InlineKeyboardButton]:
    return [
        InlineKeyboardButton(text=t(lang, "btn_proxy_connect"), url=connect_url),
        InlineKeyboardButton(text=t(lang, "btn_copy_link"), copy_text=CopyTextButton(text=link)),
    ]


def card(lang: str, link: str, connect_url: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[link_row(lang, link, connect_url), [button(lang, "btn_menu", Screen.MENU)]]
    )


def preparing(lang: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[button(lang, "btn_menu", Screen.MENU)]])


def screen(
    lang: str, plans: list[PlanView], link: str = "", connect_url: str = "", trial_days: int = 0
) -> InlineKeyboardMarkup:
    rows = [link_row(lang, link, connect_url)] if link and connect_url else []
    if trial_days:
        rows.append([button(lang, "btn_proxy_trial", Screen.PROXY_TRIAL, days=trial_days)])
    rows += [[plan_button(lang, plan)] for plan in plans]
    rows.append([back(lang)])
    return InlineKeyboardMarkup(inline_keyboard=rows)
