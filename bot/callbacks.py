"""Callback data of every inline button (aiogram CallbackData factories); data that does not unpack
(stale, tampered) matches no handler and gets the fallback's "out of date" answer."""

from __future__ import annotations

import enum
from typing import Annotated

from aiogram.filters.callback_data import CallbackData
from pydantic import Field

from shop.models import PaymentMethod

PaymentId = Annotated[str, Field(pattern=r"^[0-9a-f]{1,40}$")]  # ours are hex (new_payment_id)
BroadcastId = Annotated[str, Field(pattern=r"^([0-9a-f]{16})?$")]  # new_broadcast_id, or none yet


class Screen(enum.StrEnum):
    MENU = "menu"
    BUY = "buy"
    TRIAL = "trial"
    SUBSCRIPTION = "sub"
    HELP = "help"
    ABOUT = "about"
    SUPPORT = "support"
    LANGUAGE = "lang"
    ADMIN = "admin"
    REFERRAL = "ref"
    BALANCE = "bal"
    GIFT = "gift"
    PROXY = "proxy"
    PROXY_TRIAL = "proxy_trial"


class Platform(enum.StrEnum):
    ANDROID = "android"
    IOS = "ios"
    WINDOWS = "windows"
    MACOS = "macos"
    LINUX = "linux"


class LinkAction(enum.StrEnum):
    QR = "qr"
    ROTATE = "rotate"
    ROTATE_CONFIRMED = "rotate_ok"


class AdminAction(enum.StrEnum):
    STATS = "stats"
    FIND = "find"
    REVIEWS = "reviews"
    DAYS = "days"
    BAN = "ban"
    UNBAN = "unban"
    WITHDRAWALS = "wds"
    CONSOLE = "console"


class WithdrawStep(enum.StrEnum):
    START = "start"
    CONFIRM = "confirm"
    CANCEL = "cancel"


class BroadcastAction(enum.StrEnum):
    NEW = "new"
    NO_BUTTON = "nobtn"
    SEND = "send"
    CANCEL = "cancel"  # while composing (no id), the preview's draft, or a running broadcast
    PROGRESS = "progress"


class Nav(CallbackData, prefix="nav"):
    to: Screen


class AcceptTerms(CallbackData, prefix="terms"):
    accept: bool = True


class PickPlan(CallbackData, prefix="plan"):
    plan_id: int


class PickMethod(CallbackData, prefix="method"):
    plan_id: int
    method: PaymentMethod


class Pay(CallbackData, prefix="pay"):
    payment_id: PaymentId


class Transferred(CallbackData, prefix="paid"):
    payment_id: PaymentId


class Renew(CallbackData, prefix="renew"):
    """The expiry reminder's button (packs to "renew", as reminders already sent carry)."""


class HowTo(CallbackData, prefix="howto"):
    platform: Platform


class SetLanguage(CallbackData, prefix="lang"):
    code: str


class Link(CallbackData, prefix="link"):
    action: LinkAction


class Admin(CallbackData, prefix="adm"):
    action: AdminAction
    user_id: int = 0
    days: int = 0
    nonce: str = ""


class Review(CallbackData, prefix="review"):
    """An operator's decision on a P2P transfer, on the workflow's message to the operators."""

    payment_id: PaymentId
    approve: bool


class Broadcasting(CallbackData, prefix="bc"):
    """The operator's broadcast: composing it, the preview's Send / Cancel, progress and Stop."""

    action: BroadcastAction
    broadcast_id: BroadcastId = ""


class ListedReview(CallbackData, prefix="lreview"):
    """The same decision from the operator's "Payments to review" list, which is shown again after."""

    payment_id: PaymentId
    approve: bool


class Withdraw(CallbackData, prefix="wd"):
    """The customer's withdrawal steps; the payout details wait in the FSM, not in the button."""

    step: WithdrawStep


class WithdrawalDecision(CallbackData, prefix="wdd"):
    """An operator's approve/decline of a withdrawal request (from its notice or from the list)."""

    withdrawal_id: Annotated[int, Field(ge=1)]
    approve: bool
    listed: bool = False  # pressed on the /admin list, which is shown again afterwards


class SupportChat(CallbackData, prefix="sup"):
    """ "Write to support" (the shop bot is the desk): opens the customer's ticket."""


class PromoAsk(CallbackData, prefix="promo"):
    """ "Have a code?" on the methods screen: the next message is the code, then that screen again."""

    plan_id: int


class TopUp(CallbackData, prefix="topup"):
    amount: Annotated[int, Field(ge=1)]


class TopUpMethod(CallbackData, prefix="tmethod"):
    amount: Annotated[int, Field(ge=1)]
    method: PaymentMethod


class GiftPlan(CallbackData, prefix="gplan"):
    plan_id: int


class GiftMethod(CallbackData, prefix="gmethod"):
    plan_id: int
    method: PaymentMethod


class MoveReferral(CallbackData, prefix="refmove"):
    """Moves the referral balance onto the main balance."""
