"""The plan catalogue the customer chooses from, read from the database on every screen, so an
operator's change shows at once; who a plan is offered to and which methods may sell it."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select

from shop.db import SessionFactory
from shop.models import PaymentMethod, Plan, PlanAudience, Product, Subscription


@dataclass(frozen=True)
class PlanView:
    id: int
    name: str
    days: int
    price: Decimal
    currency: str
    price_stars: int | None
    name_en: str = ""
    methods: tuple[PaymentMethod, ...] = ()  # empty: every method the shop offers
    audience: PlanAudience = PlanAudience.ANY
    product: Product = Product.VPN

    def title(self, lang: str) -> str:
        return self.name_en if lang == "en" and self.name_en else self.name

    def sells(self, method: PaymentMethod, stars: int | None) -> bool:
        """`stars`: the plan's price in Stars, its own or at the owner's rate (None: it has none)."""
        if method is PaymentMethod.STARS and not stars:
            return False
        return not self.methods or method in self.methods

    def offered_to(self, has_paid: bool) -> bool:
        if self.audience is PlanAudience.FIRST:
            return not has_paid
        if self.audience is PlanAudience.RENEWAL:
            return has_paid
        return True


def parse_methods(stored: str) -> tuple[PaymentMethod, ...]:
    return tuple(PaymentMethod(part) for part in stored.split(",") if part)


def view(plan: Plan) -> PlanView:
    return PlanView(
        plan.id,
        plan.name,
        plan.duration_days,
        plan.price,
        plan.currency,
        plan.price_stars,
        plan.name_en,
        parse_methods(plan.methods),
        plan.audience,
        plan.product,
    )


async def has_paid(sessions: SessionFactory, user_id: int) -> bool:
    async with sessions() as session:
        paid = await session.scalar(select(Subscription.has_paid).where(Subscription.user_id == user_id))
    return bool(paid)


async def active_plans(
    sessions: SessionFactory, paid_before: bool | None = None, product: Product | None = Product.VPN
) -> list[PlanView]:
    """The visible plans of one product (None: every product) in the operator's order; with
    `paid_before`, only those offered to such a customer (first-purchase-only and renewal-only plans)."""
    query = select(Plan).where(Plan.active).order_by(Plan.sort_order, Plan.id)
    if product is not None:
        query = query.where(Plan.product == product)
    async with sessions() as session:
        plans = await session.scalars(query)
        views = [view(plan) for plan in plans]
    return [plan for plan in views if paid_before is None or plan.offered_to(paid_before)]


async def active_plan(sessions: SessionFactory, plan_id: int) -> PlanView | None:
    async with sessions() as session:
        plan = await session.get(Plan, plan_id)
        return view(plan) if plan is not None and plan.active else None


async def ensure_plan(
    sessions: SessionFactory,
    name: str,
    days: int,
    price: Decimal,
    currency: str,
    product: Product = Product.VPN,
) -> PlanView:
    """The active plan called `name`, created with these terms when there is none (idempotent setup)."""
    async with sessions() as session, session.begin():
        plan = await session.scalar(select(Plan).where(Plan.name == name, Plan.active))
        if plan is None:
            plan = Plan(name=name, duration_days=days, price=price, currency=currency, product=product)
            session.add(plan)
            await session.flush()
        return view(plan)
