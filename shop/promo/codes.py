"""A code's terms and its checks, the customer's chosen code, and what a code does to a price."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import delete, select

from shop.db import SessionFactory
from shop.models import PromoChoice, PromoCode, PromoKind, utcnow

CENT = Decimal("0.01")
MIN_AMOUNT = Decimal("1.00")  # no provider takes less; a fixed code never brings an order below it
CODE = re.compile(r"^[A-Z0-9_-]{3,32}$")
START_PREFIX = "promo_"


class PromoRefused(Exception):
    """The code cannot be used; `key` names the customer text in the bot catalogues."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


@dataclass(frozen=True)
class Terms:
    """A code as the checkout applies it."""

    id: int
    code: str
    kind: PromoKind
    value: Decimal

    @property
    def bonus_days(self) -> int:
        return int(self.value) if self.kind is PromoKind.BONUS_DAYS else 0

    def price(self, amount: Decimal) -> Decimal:
        """The RUB amount after this code (unchanged for day codes)."""
        if self.kind is PromoKind.PERCENT:
            return (amount * (100 - self.value) / 100).quantize(CENT, ROUND_HALF_UP)
        if self.kind is PromoKind.FIXED:
            return max(MIN_AMOUNT, amount - self.value).quantize(CENT)
        return amount

    def stars(self, stars: int, rub: Decimal) -> int:
        """A Stars price after this code: the same share off as in RUB, at least one Star."""
        if rub <= 0 or self.kind not in (PromoKind.PERCENT, PromoKind.FIXED):
            return stars
        share = self.price(rub) / rub
        return max(1, int((Decimal(stars) * share).quantize(Decimal(1), ROUND_HALF_UP)))


def normalise(text: str | None) -> str:
    """The code as stored (upper case); PromoRefused("promo_unknown") for what cannot be one."""
    code = (text or "").strip().upper()
    if not CODE.match(code):
        raise PromoRefused("promo_unknown")
    return code


def from_start(argument: str | None) -> str | None:
    """The code of a `promo_CODE` deep link, None for any other /start argument."""
    if argument and argument.startswith(START_PREFIX):
        return argument.removeprefix(START_PREFIX)
    return None


def plan_ids(stored: str) -> tuple[int, ...]:
    return tuple(int(part) for part in stored.split(",") if part)


def check(
    code: PromoCode | None,
    now: datetime,
    paid_before: bool,
    plan_id: int | None = None,
    counted: bool = True,
) -> Terms:
    """The code's terms when it may be used now (for this plan, when given); PromoRefused if not.
    The counter is only looked at here for a clear message (`counted`): the reservation enforces
    the limit, after giving back uses of abandoned orders, so the checkout leaves it to that."""
    if code is None or not code.active:
        raise PromoRefused("promo_unknown")
    if code.valid_from is not None and now < code.valid_from:
        raise PromoRefused("promo_not_yet")
    if code.valid_until is not None and now >= code.valid_until:
        raise PromoRefused("promo_expired")
    if counted and code.max_uses is not None and code.used >= code.max_uses:
        raise PromoRefused("promo_exhausted")
    if code.first_purchase_only and paid_before:
        raise PromoRefused("promo_first_only")
    plans = plan_ids(code.plan_ids)
    if plan_id is not None and plans and plan_id not in plans:
        raise PromoRefused("promo_wrong_plan")
    return Terms(code.id, code.code, code.kind, Decimal(code.value))


async def find(sessions: SessionFactory, text: str) -> PromoCode | None:
    code = normalise(text)
    async with sessions() as session:
        return await session.scalar(select(PromoCode).where(PromoCode.code == code))


async def choose(sessions: SessionFactory, user_id: int, code_id: int) -> None:
    """Remembers the code for the customer's next order (replacing an earlier one)."""
    async with sessions() as session, session.begin():
        await session.execute(delete(PromoChoice).where(PromoChoice.user_id == user_id))
        session.add(PromoChoice(user_id=user_id, code_id=code_id, chosen_at=utcnow()))


async def forget(sessions: SessionFactory, user_id: int) -> None:
    async with sessions() as session, session.begin():
        await session.execute(delete(PromoChoice).where(PromoChoice.user_id == user_id))


async def chosen(sessions: SessionFactory, user_id: int) -> PromoCode | None:
    async with sessions() as session:
        return await session.scalar(
            select(PromoCode)
            .join(PromoChoice, PromoChoice.code_id == PromoCode.id)
            .where(PromoChoice.user_id == user_id)
        )


async def any_for_purchases(sessions: SessionFactory) -> bool:
    """Whether the shop has an active code a purchase can use (then the bot offers "Have a code?")."""
    async with sessions() as session:
        found = await session.scalar(
            select(PromoCode.id).where(PromoCode.active, PromoCode.kind != PromoKind.FREE_DAYS).limit(1)
        )
    return found is not None


def describe(terms: Terms) -> tuple[str, dict[str, object]]:
    """The catalogue key and values that tell the customer what the chosen code does."""
    if terms.kind is PromoKind.PERCENT:
        return "promo_applied_percent", {"value": int(terms.value)}
    if terms.kind is PromoKind.FIXED:
        return "promo_applied_fixed", {"amount": terms.value}
    return f"promo_applied_{terms.kind.value}", {"days": int(terms.value)}


async def text_of(sessions: SessionFactory, code_id: int) -> str:
    async with sessions() as session:
        return await session.scalar(select(PromoCode.code).where(PromoCode.id == code_id)) or ""
