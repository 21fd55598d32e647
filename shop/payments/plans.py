"""The plan catalogue the customer chooses from."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select

from shop.db import SessionFactory
from shop.models import Plan


@dataclass(frozen=True)
class PlanView:
    id: int
    name: str
    days: int
    price: Decimal
    currency: str
    price_stars: int | None


def _view(plan: Plan) -> PlanView:
    return PlanView(plan.id, plan.name, plan.duration_days, plan.price, plan.currency, plan.price_stars)


async def active_plans(sessions: SessionFactory) -> list[PlanView]:
    async with sessions() as session:
        plans = await session.scalars(select(Plan).where(Plan.active).order_by(Plan.sort_order, Plan.id))
        return [_view(plan) for plan in plans]


async def active_plan(sessions: SessionFactory, plan_id: int) -> PlanView | None:
    async with sessions() as session:
        plan = await session.get(Plan, plan_id)
        return _view(plan) if plan is not None and plan.active else None


async def ensure_plan(
    sessions: SessionFactory, name: str, days: int, price: Decimal, currency: str
) -> PlanView:
    """The active plan called `name`, created with these terms when there is none (idempotent setup)."""
    async with sessions() as session, session.begin():
        plan = await session.scalar(select(Plan).where(Plan.name == name, Plan.active))
        if plan is None:
            plan = Plan(name=name, duration_days=days, price=price, currency=currency)
            session.add(plan)
            await session.flush()
        return _view(plan)
