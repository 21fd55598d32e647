"""The owner's settings: their types, limits and groups, and which environment variable seeds each.

`OwnerSettings` is one frozen, validated snapshot. A value comes from the database when the owner
set it, else from the environment variable named in `ENV` when that is set, else from the field's
default. Texts (`texts`) are the owner's replacements for catalogue texts, keyed "<name>.<lang>";
a missing key means the bot's own catalogue text.
"""

from __future__ import annotations

import enum
import re
from datetime import timedelta
from decimal import ROUND_CEILING, Decimal
from html.parser import HTMLParser
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from shop.messaging.reminders import ReminderPolicy, parse_marks
from shop.models import PaymentMethod

LANGUAGES = ("ru", "en")
PLATFORMS = ("android", "ios", "windows", "macos", "linux")
# Texts an owner may replace, each per language: the bot's About and Support screens, the greeting
# after /start, and the connection instructions per platform.
TEXT_NAMES = ("about", "support", "welcome", *(f"instructions_{p}" for p in PLATFORMS))
TEXT_MAX = 3500  # under Telegram's 4096 characters, leaving room for the screen around it
# The HTML Telegram accepts in a message (parse_mode=HTML).
TELEGRAM_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre",
                 "tg-spoiler", "span", "blockquote"}  # fmt: skip


class Source(enum.StrEnum):
    DATABASE = "database"
    ENVIRONMENT = "environment"
    DEFAULT = "default"


def _url(value: str) -> str:
    value = value.strip()
    if not value:
        return value
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or " " in value:
        raise PydanticCustomError("url", "must be a web address starting with https:// (or empty)")
    return value


# A logo is an https image or an inline image (data: URI), small enough to travel in every page.
_LOGO_DATA = re.compile(r"data:image/(png|jpeg|gif|webp|svg\+xml);base64,[A-Za-z0-9+/=]+")
LOGO_DATA_MAX = 64 * 1024


def _logo(value: str) -> str:
    value = value.strip()
    if value.startswith("data:"):
        if len(value) > LOGO_DATA_MAX or not _LOGO_DATA.fullmatch(value):
            raise PydanticCustomError(
                "logo", "must be an https:// image address or a base64 data:image URI under 64 KB"
            )
        return value
    return _url(value)


def _channel(value: str) -> str:
    value = value.strip()
    if value.startswith("@"):
        if not value[1:].replace("_", "").isalnum() or not 5 <= len(value) <= 33:
            raise PydanticCustomError("channel", "must be @name (5-32 letters, digits, _) or a t.me link")
        return value
    return _url(value)


def _chat_id(value: str) -> str:
    value = value.strip()
    if value and not (value.startswith("@") or value.lstrip("-").isdigit()):
        raise PydanticCustomError("chat_id", "must be @channelname or a numeric chat id like -1001234567890")
    return value


def _marks(value: str) -> str:
    try:
        parse_marks(value)
    except ValueError as bad:  # names the bad mark
        raise PydanticCustomError("marks", str(bad)) from None
    return value.replace(" ", "")


class _TelegramHtml(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in TELEGRAM_TAGS:
            raise PydanticCustomError(
                "html", f"<{tag}> is not allowed: use b, i, u, s, a, code, pre or blockquote"
            )
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open.pop() != tag:
            raise PydanticCustomError("html", f"</{tag}> closes a tag that is not open")


def _text(value: str) -> str:
    value = value.strip()
    if len(value) > TEXT_MAX:
        raise PydanticCustomError("too_long", f"is {len(value)} characters long; at most {TEXT_MAX}")
    parser = _TelegramHtml()
    parser.feed(value)
    parser.close()
    if parser.open:
        raise PydanticCustomError("html", f"<{parser.open[-1]}> is never closed")
    return value


def is_telegram_html(value: str) -> bool:
    """Whether Telegram would take `value` as HTML (the allowed tags, balanced), e.g. an operator's
    message to a customer."""
    try:
        _text(value)
    except PydanticCustomError:
        return False
    return True


def _text_keys(value: dict[str, str]) -> dict[str, str]:
    known = {f"{name}.{lang}" for name in TEXT_NAMES for lang in LANGUAGES}
    for key in value:
        if key not in known:
            raise PydanticCustomError("unknown", f"unknown text {key!r}")
    return {key: text for key, text in value.items() if text}


Url = Annotated[str, AfterValidator(_url)]
Name = Annotated[str, Field(max_length=64), AfterValidator(str.strip)]
Percent = Annotated[int, Field(ge=0, le=100)]


class OwnerSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    # The shop
    shop_name: Annotated[str, Field(min_length=1, max_length=64)] = "vpnshop"
    logo_url: Annotated[str, AfterValidator(_logo)] = ""
    # Links shown in the bot, the apps and the /sub page
    terms_url: Url = ""
    privacy_url: Url = ""
    support_url: Url = ""
    channel_url: Annotated[str, AfterValidator(_channel)] = ""
    channel_chat_id: Annotated[str, AfterValidator(_chat_id)] = ""
    force_channel_subscription: bool = False
    # Trial
    trial_enabled: bool = True
    trial_days: Annotated[int, Field(ge=1, le=365)] = 3
    # Referral program
    referrals_enabled: bool = True
    referral_percent: Percent = 10
    # Above 90 % a first purchase would be nearly free (and 100 % a 0 ₽ payment no provider takes).
    referral_discount_percent: Annotated[int, Field(ge=0, le=90)] = 5
    referral_min_withdrawal: Annotated[Decimal, Field(gt=0, le=1_000_000, decimal_places=2)] = Decimal(100)
    # Rewards credited straight to the customer's balance (spendable) instead of the withdrawable one.
    referral_to_balance: bool = False
    # Payment methods: offered when on here and configured (credentials in the environment).
    yookassa_enabled: bool = True
    cryptopay_enabled: bool = True
    stars_enabled: bool = False
    p2p_enabled: bool = True
    yookassa_name: Name = ""  # empty: the bot's own name for the method
    cryptopay_name: Name = ""
    stars_name: Name = ""
    p2p_name: Name = ""
    balance_enabled: bool = True  # paying from the RUB balance (offered when there is money on it)
    balance_name: Name = ""
    p2p_requisites: Annotated[str, Field(max_length=500), AfterValidator(str.strip)] = ""
    # Stars for 1 RUB, for plans without their own Stars price; 0: such plans are not sold for Stars.
    stars_rate: Annotated[Decimal, Field(ge=0, le=1000, decimal_places=4)] = Decimal(0)
    # Reminders: offsets from the expiry (-24h before, +24h after)
    reminder_marks: Annotated[str, AfterValidator(_marks)] = "-72h,-24h,-1h,0h,+24h"
    trial_reminder_marks: Annotated[str, AfterValidator(_marks)] = "-24h,0h"
    # Texts, "<name>.<lang>" -> the owner's text (Telegram HTML)
    texts: Annotated[dict[str, Annotated[str, AfterValidator(_text)]], AfterValidator(_text_keys)] = {}

    @model_validator(mode="after")
    def _forced_channel_is_checkable(self) -> OwnerSettings:
        if self.force_channel_subscription and not self.channel_check_id:
            raise PydanticCustomError(
                "forced_channel",
                "force_channel_subscription: needs a public channel link (https://t.me/name or "
                "@name) or a channel chat id; the bot cannot check an invite link",
            )
        return self

    @property
    def channel_check_id(self) -> str:
        """The chat getChatMember is asked about ("" when it cannot be known, e.g. an invite link)."""
        if self.channel_chat_id:
            return self.channel_chat_id
        url = self.channel_url.strip().rstrip("/")
        if url.startswith("@"):
            return url
        name = url.rsplit("/", 1)[-1] if "t.me/" in url else ""
        if not name or name.startswith("+") or "joinchat" in url:
            return ""
        return f"@{name}"

    @property
    def onboarding_required(self) -> bool:
        return bool(self.terms_url or self.privacy_url or self.force_channel_subscription)

    def method_enabled(self, method: PaymentMethod) -> bool:
        return bool(getattr(self, f"{method.value}_enabled"))

    def method_name(self, method: PaymentMethod) -> str:
        """The owner's display name for a method, "" for the bot's own."""
        return str(getattr(self, f"{method.value}_name"))

    def reminder_policy(self, grace: timedelta) -> ReminderPolicy:
        return ReminderPolicy(parse_marks(self.reminder_marks), parse_marks(self.trial_reminder_marks), grace)

    def text(self, name: str, lang: str) -> str | None:
        """The owner's text in this language, or None to use the catalogue's."""
        return self.texts.get(f"{name}.{lang}")

    def stars_price(self, own: int | None, rub: Decimal) -> int | None:
        """A plan's price in Stars: its own, else its RUB price at the owner's rate (rounded up);
        None when it has neither (not sold for Stars)."""
        if own:
            return own
        if not self.stars_rate:
            return None
        return max(1, int((rub * self.stars_rate).to_integral_value(rounding=ROUND_CEILING)))


# Fields whose default is the environment's value: field -> the `shop.settings.Settings` attribute
# (an environment variable of the same name, upper case). TRIAL_DAYS=0 used to mean "no trial".
ENV = {
    "shop_name": "shop_name",
    "logo_url": "shop_logo_url",
    "terms_url": "terms_url",
    "privacy_url": "privacy_url",
    "support_url": "support_url",
    "channel_url": "channel_url",
    "channel_chat_id": "channel_chat_id",
    "force_channel_subscription": "force_channel_subscription",
    "trial_enabled": "trial_days",
    "trial_days": "trial_days",
    "referrals_enabled": "referrals_enabled",
    "referral_percent": "referral_percent",
    "referral_discount_percent": "referral_discount_percent",
    "referral_min_withdrawal": "referral_min_withdrawal",
    "stars_enabled": "stars_enabled",
    "p2p_requisites": "p2p_requisites",
    "reminder_marks": "reminder_marks",
    "trial_reminder_marks": "trial_reminder_marks",
}


def from_environment(name: str, value: object) -> object | None:
    """The field's value for the environment's `value`, None when it gives none (TRIAL_DAYS=0)."""
    if name == "trial_enabled":
        return bool(value)
    if name == "trial_days" and not value:
        return None
    return value


# The console's form, in order: group -> fields (texts are their own group, per language).
GROUPS: dict[str, tuple[str, ...]] = {
    "shop": ("shop_name", "logo_url"),
    "links": ("terms_url", "privacy_url", "support_url", "channel_url", "channel_chat_id",
              "force_channel_subscription"),
    "trial": ("trial_enabled", "trial_days"),
    "referral": ("referrals_enabled", "referral_percent", "referral_discount_percent",
                 "referral_min_withdrawal", "referral_to_balance"),
    "payments": ("yookassa_enabled", "yookassa_name", "cryptopay_enabled", "cryptopay_name",
                 "stars_enabled", "stars_name", "stars_rate", "p2p_enabled", "p2p_name", "p2p_requisites",
                 "balance_enabled", "balance_name"),
    "reminders": ("reminder_marks", "trial_reminder_marks"),
}  # fmt: skip
TEXT_KEYS = tuple(f"{name}.{lang}" for name in TEXT_NAMES for lang in LANGUAGES)
