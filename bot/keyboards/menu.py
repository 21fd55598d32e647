"""The main menu and the onboarding (terms, channel) keyboards."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.callbacks import AcceptTerms, Nav, Screen
from bot.texts import t
from shop.storefront.fields import OwnerSettings


def button(lang: str, key: str, screen: Screen, **values: object) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=t(lang, key, **values), callback_data=Nav(to=screen).pack())


def back(lang: str, screen: Screen = Screen.MENU) -> InlineKeyboardButton:
    return button(lang, "btn_back", screen)


def main_menu(
    lang: str, *, active: bool, trial: bool, referral: bool, admin: bool, proxy: bool = False
) -> InlineKeyboardMarkup:
    rows = [[button(lang, "btn_extend" if active else "btn_buy", Screen.BUY)]]
    if proxy:  # an MTG host is enabled: the second product is on sale
        rows.append([button(lang, "btn_proxy", Screen.PROXY)])
    if trial:
        rows.append([button(lang, "btn_trial", Screen.TRIAL)])
    rows.append(
        [button(lang, "btn_subscription", Screen.SUBSCRIPTION), button(lang, "btn_help", Screen.HELP)]
    )
    if referral:
        rows.append([button(lang, "btn_referral", Screen.REFERRAL)])
    rows.append([button(lang, "btn_support", Screen.SUPPORT), button(lang, "btn_about", Screen.ABOUT)])
    rows.append([button(lang, "btn_language", Screen.LANGUAGE)])
    if admin:
        rows.append([button(lang, "btn_admin", Screen.ADMIN)])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def links(lang: str, owner: OwnerSettings) -> list[InlineKeyboardButton]:
    """Channel, terms and privacy: whichever are configured."""
    pairs = [
        ("btn_channel", owner.channel_url),
        ("btn_terms", owner.terms_url),
        ("btn_privacy", owner.privacy_url),
    ]
    return [InlineKeyboardButton(text=t(lang, key), url=_url(url)) for key, url in pairs if url]


def _url(value: str) -> str:
    return f"https://t.me/{value[1:]}" if value.startswith("@") else value


def onboarding(lang: str, owner: OwnerSettings) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for item in links(lang, owner):
        builder.row(item)
    key = "btn_subscribed" if owner.force_channel_subscription else "btn_accept"
    builder.row(InlineKeyboardButton(text=t(lang, key), callback_data=AcceptTerms().pack()))
    return builder.as_markup()
