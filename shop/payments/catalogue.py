"""The operator's side of the plan catalogue: create, edit, reorder, hide and show, delete a plan no
payment refers to. Input is checked field by field (`Invalid`); every change lands in the audit log
in its own transaction. The bot reads plans from the database on each screen, so changes show at once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from shop.db import SessionFactory
from shop.models import Payment, PaymentMethod, Plan, PlanAudience, Product
from shop.operators import audit
from shop.operators.audit import Actor
from shop.operators.forms import Invalid

MAX_DAYS = 3650
MAX_PRICE = Decimal("10000000")
CURRENCY = re.compile(r"^[A-Z]{3}$")
CENTS = Decimal("0.01")


class PlanInUse(Exception):
    """Payments refer to the plan: it can be hidden, never deleted."""


@dataclass(frozen=True)
class PlanDraft:
    name: str
    name_en: str
    duration_days: int
    price: Decimal
    currency: str
    price_stars: int | None
    methods: tuple[PaymentMethod, ...]
    audience: PlanAudience
    active: bool
    product: Product = Product.VPN  # what the plan sells: the VPN subscription or the Telegram proxy


@dataclass(frozen=True)
class PlanRow:
    """A plan as the operator sees it, with how many payments refer to it."""

    id: int
    draft: PlanDraft
    sort_order: int
    payments: int


def _text(form: Mapping[str, Any], key: str) -> str:
    value = form.get(key, "")
    return value.strip() if isinstance(value, str) else ""


def _whole(raw: str, low: int, high: int) -> tuple[int | None, str | None]:
    if not raw:
        return None, "required"
    if not raw.lstrip("-").isdigit():
        return None, "not_number"
    value = int(raw)
    if value < low:
        return None, "negative" if value < 0 else "too_small"
    return (value, None) if value <= high else (None, "too_large")


def parse_plan(form: Mapping[str, Any], methods: Sequence[str], default_currency: str) -> PlanDraft:
    """A plan's terms from a form's strings; `Invalid` names every field that is wrong."""
    errors: dict[str, str] = {}
    name, name_en = _text(form, "name"), _text(form, "name_en")
    if not name:
        errors["name"] = "required"
    for key, value in (("name", name), ("name_en", name_en)):
        if len(value) > 64:
            errors[key] = "too_long"
    days, problem = _whole(_text(form, "duration_days"), 1, MAX_DAYS)
    if problem:
        errors["duration_days"] = problem
    price = Decimal(0)
    try:
        price = Decimal(_text(form, "price").replace(",", "."))
        if not price.is_finite():
            raise InvalidOperation
        if price < 0:
            errors["price"] = "negative"
        elif price == 0:
            errors["price"] = "too_small"
        elif price > MAX_PRICE or price != price.quantize(CENTS):
            errors["price"] = "bad_price"
        else:
            price = price.quantize(CENTS)  # "299" and "299.00" are one price, in the log too
    except InvalidOperation:
        errors["price"] = "required" if not _text(form, "price") else "not_number"
    currency = (_text(form, "currency") or default_currency).upper()
    if not CURRENCY.match(currency):
        errors["currency"] = "bad_currency"
    stars: int | None = None
    if _text(form, "price_stars"):
        stars, problem = _whole(_text(form, "price_stars"), 1, 1_000_000)
        if problem:
            errors["price_stars"] = problem
    chosen: list[PaymentMethod] = []
    for value in methods:
        try:
            chosen.append(PaymentMethod(value))
        except ValueError:
            errors["methods"] = "bad_choice"
    try:
        audience = PlanAudience(_text(form, "audience") or PlanAudience.ANY.value)
    except ValueError:
        errors["audience"], audience = "bad_choice", PlanAudience.ANY
    try:
        product = Product(_text(form, "product") or Product.VPN.value)
    except ValueError:
        errors["product"], product = "bad_choice", Product.VPN
    if errors:
        raise Invalid(errors)
    assert days is not None
    return PlanDraft(
        name, name_en, days, price, currency, stars, tuple(sorted(set(chosen))), audience,
        active=bool(form.get("active")), product=product,
    )  # fmt: skip


def _draft(plan: Plan) -> PlanDraft:
    methods = tuple(PaymentMethod(part) for part in plan.methods.split(",") if part)
    return PlanDraft(
        plan.name, plan.name_en, plan.duration_days, Decimal(plan.price), plan.currency,
        plan.price_stars, methods, plan.audience, plan.active, plan.product,
    )  # fmt: skip


def _apply(plan: Plan, draft: PlanDraft) -> None:
    values = asdict(draft)
    values["methods"] = ",".join(method.value for method in draft.methods)
    for key, value in values.items():
        setattr(plan, key, value)


def _audited(draft: PlanDraft) -> dict[str, Any]:
    values = asdict(draft)
    values["methods"] = [method.value for method in draft.methods]
    values["price"] = str(draft.price)
    values["audience"] = draft.audience.value
    values["product"] = draft.product.value
    return values


class PlanCatalogue:
    def __init__(self, sessions: SessionFactory) -> None:
        self.sessions = sessions

    async def rows(self) -> list[PlanRow]:
        async with self.sessions() as session:
            grouped = await session.execute(select(Payment.plan_id, func.count()).group_by(Payment.plan_id))
            counts = {int(plan_id): int(count) for plan_id, count in grouped if plan_id is not None}
            plans = await session.scalars(select(Plan).order_by(Plan.sort_order, Plan.id))
            return [PlanRow(plan.id, _draft(plan), plan.sort_order, counts.get(plan.id, 0)) for plan in plans]

    async def get(self, plan_id: int) -> PlanRow | None:
        return next((row for row in await self.rows() if row.id == plan_id), None)

    async def create(self, actor: Actor, draft: PlanDraft) -> int:
        async with self.sessions() as session, session.begin():
            last = await session.scalar(select(func.max(Plan.sort_order)))
            plan = Plan(sort_order=(last or 0) + 1)
            _apply(plan, draft)
            session.add(plan)
            await session.flush()
            audit.record(session, actor, "plan.create", f"plan:{plan.id}", after=_audited(draft))
            return plan.id

    async def _locked(self, session: AsyncSession, plan_id: int) -> Plan:
        plan = await session.get(Plan, plan_id, with_for_update=True)
        if plan is None:
            raise LookupError(plan_id)
        return plan

    async def update(self, actor: Actor, plan_id: int, draft: PlanDraft) -> bool:
        """True when something changed (an unchanged form writes no audit entry)."""
        async with self.sessions() as session, session.begin():
            plan = await self._locked(session, plan_id)
            before, after = audit.changed(_audited(_draft(plan)), _audited(draft))
            if not after:
                return False
            if "product" in after and await session.scalar(
                select(Payment.id).where(Payment.plan_id == plan_id).limit(1)
            ):
                # A payment's product is its plan's: paid orders must keep meaning what they bought.
                raise Invalid({"product": "product_in_use"})
            _apply(plan, draft)
            audit.record(session, actor, "plan.update", f"plan:{plan_id}", before, after)
            return True

    async def set_active(self, actor: Actor, plan_id: int, active: bool) -> bool:
        async with self.sessions() as session, session.begin():
            plan = await self._locked(session, plan_id)
            if plan.active == active:
                return False
            plan.active = active
            action = "plan.show" if active else "plan.hide"
            audit.record(
                session, actor, action, f"plan:{plan_id}", {"active": not active}, {"active": active}
            )
            return True

    async def move(self, actor: Actor, plan_id: int, step: int) -> bool:
        """Moves the plan one place up (-1) or down (+1) in the bot's list."""
        async with self.sessions() as session, session.begin():
            plans = list(
                await session.scalars(select(Plan).order_by(Plan.sort_order, Plan.id).with_for_update())
            )
            ids = [plan.id for plan in plans]
            if plan_id not in ids:
                raise LookupError(plan_id)
            here = ids.index(plan_id)
            there = here + (1 if step > 0 else -1)
            if not 0 <= there < len(plans):
                return False
            plans[here], plans[there] = plans[there], plans[here]
            for position, plan in enumerate(plans, start=1):
                plan.sort_order = position
            audit.record(
                session,
                actor,
                "plan.move",
                f"plan:{plan_id}",
                {"position": here + 1},
                {"position": there + 1},
            )
            return True

    async def delete(self, actor: Actor, plan_id: int) -> None:
        """Deletes a plan no payment refers to; PlanInUse otherwise (hide it instead)."""
        try:
            async with self.sessions() as session, session.begin():
                plan = await self._locked(session, plan_id)
                if await session.scalar(select(Payment.id).where(Payment.plan_id == plan_id).limit(1)):
                    raise PlanInUse(plan_id)
                audit.record(session, actor, "plan.delete", f"plan:{plan_id}", before=_audited(_draft(plan)))
                await session.delete(plan)
        except IntegrityError:  # a payment for it was minted meanwhile: its foreign key keeps the plan
            raise PlanInUse(plan_id) from None
