"""Plans, payment methods, the order with its pay button, and the ways to pay."""

from __future__ import annotations

from collections.abc import Callable

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callbacks import Pay, PickMethod, PickPlan, PromoAsk, Screen, Transferred
from bot.keyboards.menu import back
from bot.texts import price, t
from shop.models import PaymentMethod
from shop.payments.plans import PlanView
from shop.storefront.fields import OwnerSettings


def plan_button(
    lang: str,
    plan: PlanView,
    pick: Callable[[int], CallbackData] = lambda plan_id: PickPlan(plan_id=plan_id),
) -> InlineKeyboardButton:
    """A plan as a button; `pick` packs its id (to buy it, or to give it as a gift)."""
    text = t(
        lang, "plan_button", name=plan.title(lang), days=plan.days, price=price(plan.price, plan.currency)
    )
    return InlineKeyboardButton(text=text, callback_data=pick(plan.id).pack())


def plans(
    lang: str,
    items: list[PlanView],
    pick: Callable[[int], CallbackData] = lambda plan_id: PickPlan(plan_id=plan_id),
    back_to: Screen = Screen.MENU,
) -> InlineKeyboardMarkup:
    rows = [[plan_button(lang, plan, pick)] for plan in items]
    rows.append([back(lang, back_to)])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def method_label(lang: str, method: PaymentMethod, owner: OwnerSettings) -> str:
    """The owner's name for the method when set, else the catalogue's."""
    return owner.method_name(method) or t(lang, f"method_{method.value}")


def method_rows(
    lang: str,
    available: list[PaymentMethod],
    owner: OwnerSettings,
    pick: Callable[[PaymentMethod], CallbackData],
) -> list[list[InlineKeyboardButton]]:
    """One button per method; `pick` packs what the order is (a plan, a top-up, a gift)."""
    return [
        [InlineKeyboardButton(text=method_label(lang, method, owner), callback_data=pick(method).pack())]
        for method in available
    ]


def methods(
    lang: str, plan_id: int, available: list[PaymentMethod], owner: OwnerSettings, ask_code: bool = False
) -> InlineKeyboardMarkup:
    """`ask_code`: the shop has promo codes, so "Have a code?" is offered."""
    rows = method_rows(lang, available, owner, lambda method: PickMethod(plan_id=plan_id, method=method))
    if ask_code and available:
        code = InlineKeyboardButton(
            text=t(lang, "btn_have_code"), callback_data=PromoAsk(plan_id=plan_id).pack()
        )
        rows.append([code])
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
