"""The balance screen (top-ups, gifts, moving the referral balance), top-up and gift methods."""

from __future__ import annotations

from decimal import Decimal

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callbacks import GiftMethod, GiftPlan, MoveReferral, Screen, TopUp, TopUpMethod
from bot.keyboards.buy import method_rows, plans
from bot.keyboards.menu import back, button
from bot.texts import price, t
from shop.models import PaymentMethod
from shop.payments.plans import PlanView
from shop.storefront.fields import OwnerSettings

TOPUP_AMOUNTS = (100, 300, 500, 1000)


def balance(lang: str, referral: Decimal) -> InlineKeyboardMarkup:
    amounts = [
        InlineKeyboardButton(
            text=t(lang, "btn_topup", amount=price(amount, "RUB")), callback_data=TopUp(amount=amount).pack()
        )
        for amount in TOPUP_AMOUNTS
    ]
    rows = [amounts[:2], amounts[2:], [button(lang, "btn_gift", Screen.GIFT)]]
    if referral > 0:
        move = t(lang, "btn_move_referral", amount=price(referral, "RUB"))
        rows.append([InlineKeyboardButton(text=move, callback_data=MoveReferral().pack())])
    rows.append([back(lang)])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def topup_methods(
    lang: str, amount: int, methods: list[PaymentMethod], owner: OwnerSettings
) -> InlineKeyboardMarkup:
    rows = method_rows(lang, methods, owner, lambda method: TopUpMethod(amount=amount, method=method))
    rows.append([back(lang, Screen.BALANCE)])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def gift_plans(lang: str, items: list[PlanView]) -> InlineKeyboardMarkup:
    return plans(lang, items, lambda plan_id: GiftPlan(plan_id=plan_id), Screen.BALANCE)


def gift_methods(
    lang: str, plan_id: int, methods: list[PaymentMethod], owner: OwnerSettings
) -> InlineKeyboardMarkup:
    rows = method_rows(lang, methods, owner, lambda method: GiftMethod(plan_id=plan_id, method=method))
    rows.append([back(lang, Screen.GIFT)])
    return InlineKeyboardMarkup(inline_keyboard=rows)
