"""Instructions (platforms, apps, one-tap import), About, Support and the language choice."""

from __future__ import annotations

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callbacks import HowTo, Platform, Screen, SetLanguage, SupportChat
from bot.keyboards.menu import back, links
from bot.texts import t
from shop.settings import Settings

PLATFORM_NAMES = {
    Platform.ANDROID: "🤖 Android",
    Platform.IOS: "🍏 iOS",
    Platform.WINDOWS: "🪟 Windows",
    Platform.MACOS: "🍎 macOS",
    Platform.LINUX: "🐧 Linux",
}
# (app name, import id in shop.subscription.deeplinks or None, store or download page) per platform.
APPS: dict[Platform, list[tuple[str, str | None, str]]] = {
    Platform.ANDROID: [
        ("Happ", "happ", "https://play.google.com/store/apps/details?id=com.happproxy"),
        ("v2rayNG", "v2rayng", "https://github.com/2dust/v2rayNG/releases/latest"),
    ],
    Platform.IOS: [
        ("Happ", "happ", "https://apps.apple.com/app/happ-proxy-utility/id6504287215"),
        ("Streisand", "streisand", "https://apps.apple.com/app/streisand/id6450534064"),
    ],
    Platform.WINDOWS: [
        ("Hiddify", "hiddify", "https://github.com/hiddify/hiddify-app/releases/latest"),
        ("v2rayN", None, "https://github.com/2dust/v2rayN/releases/latest"),
    ],
    Platform.MACOS: [
        ("Happ", "happ", "https://apps.apple.com/app/happ-proxy-utility/id6504287215"),
        ("Hiddify", "hiddify", "https://github.com/hiddify/hiddify-app/releases/latest"),
    ],
    Platform.LINUX: [("Hiddify", "hiddify", "https://github.com/hiddify/hiddify-app/releases/latest")],
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
    for name, app, store in APPS[chosen]:
        row = [InlineKeyboardButton(text=t(lang, "btn_install", app=name), url=store)]
        if app and import_base:
            row.append(InlineKeyboardButton(text=t(lang, "btn_import", app=name), url=f"{import_base}/{app}"))
        rows.append(row)
    rows.append([back(lang, Screen.HELP)])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def about(lang: str, settings: Settings) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[item] for item in links(lang, settings)] + [[back(lang)]])


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
