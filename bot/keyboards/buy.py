"""Plans, payment methods, the order with its pay button, and the ways to pay."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callbacks import Pay, PickMethod, PickPlan, Screen, Transferred
from bot.keyboards.menu import back
from bot.texts import price, t
from shop.models import PaymentMethod
from shop.payments.plans import PlanView
from shop.storefront.fields import OwnerSettings


def plan_button(lang: str, plan: PlanView) -> InlineKeyboardButton:
    text = t(
        lang, "plan_button", name=plan.title(lang), days=plan.days, price=price(plan.price, plan.currency)
    )
    return InlineKeyboardButton(text=text, callback_data=PickPlan(plan_id=plan.id).pack())


def plans(lang: str, items: list[PlanView]) -> InlineKeyboardMarkup:
    rows = [[plan_button(lang, plan)] for plan in items]
    rows.append([back(lang)])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def method_label(lang: str, method: PaymentMethod, owner: OwnerSettings) -> str:
    """The owner's name for the method when set, else the catalogue's."""
    return owner.method_name(method) or t(lang, f"method_{method.value}")


def methods(
    lang: str, plan_id: int, available: list[PaymentMethod], owner: OwnerSettings
) -> InlineKeyboardMarkup:
    rows = [
        [
            InlineKeyboardButton(
                text=method_label(lang, method, owner),
                callback_data=PickMethod(plan_id=plan_id, method=method).pack(),
            )
        ]
        for method in available
    ]
    rows.append([back(lang, Screen.BUY)])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def order(lang: str, payment_id: str) -> InlineKeyboardMarkup:
    pay = InlineKeyboardButton(text=t(lang, "btn_pay"), callback_data=Pay(payment_id=payment_id).pack())
    return InlineKeyboardMarkup(inline_keyboard=[[pay], [back(lang, Screen.BUY)]])


def pay_link(lang: str, url: str) -> InlineKeyboardMarkup:
    go = InlineKeyboardButton(text=t(lang, "btn_go_pay"), url=url)
    return InlineKeyboardMarkup(inline_keyboard=[[go], [back(lang)]])


def transfer(lang: str, payment_id: str) -> InlineKeyboardMarkup:
    done = InlineKeyboardButton(
        text=t(lang, "btn_transferred"), callback_data=Transferred(payment_id=payment_id).pack()
    )
    return InlineKeyboardMarkup(inline_keyboard=[[done], [back(lang)]])
