"""Instructions (platforms, apps, one-tap import), About, Support and the language choice."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callbacks import HowTo, Platform, Screen, SetLanguage, SupportChat
from bot.keyboards.menu import back, links
from bot.texts import t
from shop.storefront.fields import OwnerSettings
from shop.subscription.deeplinks import PLATFORM_APPS

PLATFORM_NAMES = {
    Platform.ANDROID: "🤖 Android",
    Platform.IOS: "🍏 iOS",
    Platform.WINDOWS: "🪟 Windows",
    Platform.MACOS: "🍎 macOS",
    Platform.LINUX: "🐧 Linux",
}
LANGUAGE_NAMES = {"ru": "🇷🇺 Русский", "en": "🇬🇧 English"}


def platforms(lang: str) -> InlineKeyboardMarkup:
    buttons = [
        InlineKeyboardButton(text=name, callback_data=HowTo(platform=platform).pack())
        for platform, name in PLATFORM_NAMES.items()
    ]
    return InlineKeyboardMarkup(inline_keyboard=[buttons[:2], buttons[2:4], buttons[4:], [back(lang)]])


def platform(lang: str, chosen: Platform, import_base: str | None) -> InlineKeyboardMarkup:
    """Store links, and one-tap import buttons when the customer has a link (`import_base` + app)."""
    rows = []
    for app in PLATFORM_APPS[chosen]:
        row = [InlineKeyboardButton(text=t(lang, "btn_install", app=app.title), url=app.store)]
        if app.app and import_base:
            button = InlineKeyboardButton(
                text=t(lang, "btn_import", app=app.title), url=f"{import_base}/{app.app}"
            )
            row.append(button)
        rows.append(row)
    rows.append([back(lang, Screen.HELP)])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def about(lang: str, owner: OwnerSettings) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[item] for item in links(lang, owner)] + [[back(lang)]])


def support(lang: str, url: str, desk: bool) -> InlineKeyboardMarkup:
    """The desk's "Write to support" (the shop bot is the desk), and the support contact's link."""
    rows = []
    if desk:
        rows.append(
            [InlineKeyboardButton(text=t(lang, "btn_support_chat"), callback_data=SupportChat().pack())]
        )
    if url:
        rows.append([InlineKeyboardButton(text=t(lang, "btn_write_support"), url=url)])
    return InlineKeyboardMarkup(inline_keyboard=[*rows, [back(lang)]])


def languages(lang: str) -> InlineKeyboardMarkup:
    buttons = [
        InlineKeyboardButton(text=name, callback_data=SetLanguage(code=code).pack())
        for code, name in LANGUAGE_NAMES.items()
    ]
    return InlineKeyboardMarkup(inline_keyboard=[buttons, [back(lang)]])
