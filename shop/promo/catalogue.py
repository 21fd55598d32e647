"""The operator's side of promo codes: create and edit (checked field by field, `Invalid`),
deactivate, and see each code's uses (or a customer's) and how it performs (uses, revenue, discount given).
Every change is audited in its own transaction."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.exc import IntegrityError

from shop.db import SessionFactory
from shop.models import Payment, PaymentStatus, PromoCode, PromoKind, PromoUse
from shop.operators import audit
from shop.operators.audit import Actor
from shop.operators.forms import Invalid
from shop.promo.codes import CODE, plan_ids

PAID = (PaymentStatus.SUCCEEDED, PaymentStatus.DELIVERED)
LIMITS: dict[PromoKind, tuple[Decimal, Decimal]] = {
    PromoKind.PERCENT: (Decimal(1), Decimal(90)),  # above 90 % an order is nearly free
    PromoKind.FIXED: (Decimal("0.01"), Decimal(1_000_000)),
    PromoKind.BONUS_DAYS: (Decimal(1), Decimal(3650)),
    PromoKind.FREE_DAYS: (Decimal(1), Decimal(3650)),
}


@dataclass(frozen=True)
class PromoDraft:
    code: str
    kind: PromoKind
    value: Decimal
    max_uses: int | None
    once_per_customer: bool
    first_purchase_only: bool
    valid_from: datetime | None
    valid_until: datetime | None
    plan_ids: tuple[int, ...]
    active: bool
    comment: str

    @property
    def value_text(self) -> str:
        """20 for 20.00, 99.5 for 99.50: how people write it."""
        text = f"{self.value:f}"
        return text.rstrip("0").rstrip(".") if "." in text else text


@dataclass(frozen=True)
class PromoRow:
    id: int
    draft: PromoDraft
    used: int
    revenue: Decimal  # RUB paid by orders that carried the code
    discount: Decimal  # RUB the code took off those orders


@dataclass(frozen=True)
class UseRow:
    code: str
    user_id: int
    payment_id: str | None
    status: PaymentStatus | None
    amount: Decimal | None
    discount: Decimal
    bonus_days: int
    created_at: datetime
    released_at: datetime | None


def _text(form: Mapping[str, Any], key: str) -> str:
    value = form.get(key, "")
    return value.strip() if isinstance(value, str) else ""


def _moment(text: str) -> datetime:
    """An ISO date or date-time (a form's datetime-local), taken as UTC when it names no zone."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def parse_promo(form: Mapping[str, Any]) -> PromoDraft:
    errors: dict[str, str] = {}
    code = _text(form, "code").upper()
    if not CODE.match(code):
        errors["code"] = "bad_code"
    try:
        kind = PromoKind(_text(form, "kind"))
    except ValueError:
        errors["kind"], kind = "bad_choice", PromoKind.PERCENT
    value = Decimal(0)
    try:
        value = Decimal(_text(form, "value").replace(",", "."))
        low, high = LIMITS[kind]
        if not value.is_finite() or not low <= value <= high:
            errors["value"] = "out_of_range"
        elif kind is not PromoKind.FIXED and value != value.to_integral_value():
            errors["value"] = "whole_number"
    except InvalidOperation:
        errors["value"] = "required" if not _text(form, "value") else "not_number"
    max_uses = None
    if _text(form, "max_uses"):
        try:
            max_uses = int(_text(form, "max_uses"))
            if not 1 <= max_uses <= 10_000_000:
                errors["max_uses"] = "out_of_range"
        except ValueError:
            errors["max_uses"] = "not_number"
    moments: dict[str, datetime | None] = {}
    for field in ("valid_from", "valid_until"):
        moments[field] = None
        if _text(form, field):
            try:
                moments[field] = _moment(_text(form, field))
            except ValueError:
                errors[field] = "bad_moment"
    start, end = moments["valid_from"], moments["valid_until"]
    if start and end and end <= start:
        errors["valid_until"] = "before_start"
    plans: tuple[int, ...] = ()
    try:
        plans = tuple(
            sorted({int(part) for part in _text(form, "plan_ids").replace(" ", "").split(",") if part})
        )
    except ValueError:
        errors["plan_ids"] = "not_number"
    if errors:
        raise Invalid(errors)
    return PromoDraft(
        code, kind, value, max_uses,
        bool(form.get("once_per_customer")), bool(form.get("first_purchase_only")), start, end,
        plans, bool(form.get("active")), _text(form, "comment")[:500],
    )  # fmt: skip


def _draft(row: PromoCode) -> PromoDraft:
    return PromoDraft(
        row.code, row.kind, Decimal(row.value), row.max_uses, row.once_per_customer, row.first_purchase_only,
        row.valid_from, row.valid_until, plan_ids(row.plan_ids), row.active, row.comment,
    )  # fmt: skip


def _apply(row: PromoCode, draft: PromoDraft) -> None:
    values = asdict(draft)
    values["plan_ids"] = ",".join(str(plan) for plan in draft.plan_ids)
    for key, value in values.items():
        setattr(row, key, value)


def _audited(draft: PromoDraft) -> dict[str, Any]:
    values = asdict(draft)
    values["kind"] = draft.kind.value
    values["value"] = str(draft.value)
    values["plan_ids"] = list(draft.plan_ids)
    for key in ("valid_from", "valid_until"):
        values[key] = values[key].isoformat() if values[key] else None
    return values


class PromoCatalogue:
    def __init__(self, sessions: SessionFactory) -> None:
        self.sessions = sessions

    async def rows(self) -> list[PromoRow]:
        async with self.sessions() as session:
            figures = await session.execute(
                select(
                    PromoUse.code_id,
                    func.coalesce(func.sum(Payment.price_rub), 0),
                    func.coalesce(func.sum(PromoUse.discount), 0),
                )
                .join(Payment, Payment.id == PromoUse.payment_id)
                .where(Payment.status.in_(PAID))
                .group_by(PromoUse.code_id)
            )
            money = {code_id: (Decimal(rev or 0), Decimal(off or 0)) for code_id, rev, off in figures}
            codes = await session.scalars(
                select(PromoCode).order_by(PromoCode.created_at.desc(), PromoCode.id)
            )
            return [
                PromoRow(row.id, _draft(row), row.used, *money.get(row.id, (Decimal(0), Decimal(0))))
                for row in codes
            ]

    async def get(self, code_id: int) -> PromoRow | None:
        return next((row for row in await self.rows() if row.id == code_id), None)

    async def _uses(self, where: ColumnElement[bool], limit: int) -> list[UseRow]:
        async with self.sessions() as session:
            found = await session.execute(
                select(PromoUse, PromoCode.code, Payment.status, Payment.amount)
                .join(PromoCode, PromoCode.id == PromoUse.code_id)
                .outerjoin(Payment, Payment.id == PromoUse.payment_id)
                .where(where)
                .order_by(PromoUse.id.desc())
                .limit(limit)
            )
            return [
                UseRow(
                    code,
                    use.user_id,
                    use.payment_id,
                    status,
                    amount,
                    use.discount,
                    use.bonus_days,
                    use.created_at,
                    use.released_at,
                )
                for use, code, status, amount in found
            ]

    async def uses(self, code_id: int, limit: int = 200) -> list[UseRow]:
        return await self._uses(PromoUse.code_id == code_id, limit)

    async def uses_by(self, user_id: int, limit: int = 50) -> list[UseRow]:
        """One customer's uses of any code, newest first (the console's customer page)."""
        return await self._uses(PromoUse.user_id == user_id, limit)

    async def create(self, actor: Actor, draft: PromoDraft) -> int:
        try:
            async with self.sessions() as session, session.begin():
                row = PromoCode()
                _apply(row, draft)
                session.add(row)
                await session.flush()
                audit.record(session, actor, "promo.create", f"promo:{row.id}", after=_audited(draft))
                return row.id
        except IntegrityError:
            raise Invalid({"code": "taken"}) from None

    async def update(self, actor: Actor, code_id: int, draft: PromoDraft) -> bool:
        """True when something changed. The counter of uses is never edited here."""
        try:
            async with self.sessions() as session, session.begin():
                row = await session.get(PromoCode, code_id, with_for_update=True)
                if row is None:
                    raise LookupError(code_id)
                before, after = audit.changed(_audited(_draft(row)), _audited(draft))
                if not after:
                    return False
                if draft.max_uses is not None and draft.max_uses < row.used:
                    raise Invalid({"max_uses": "below_used"})
                _apply(row, draft)
                audit.record(session, actor, "promo.update", f"promo:{code_id}", before, after)
                return True
        except IntegrityError:
            raise Invalid({"code": "taken"}) from None

    async def set_active(self, actor: Actor, code_id: int, active: bool) -> bool:
        async with self.sessions() as session, session.begin():
            row = await session.get(PromoCode, code_id, with_for_update=True)
            if row is None:
                raise LookupError(code_id)
            if row.active == active:
                return False
            row.active = active
            action = "promo.activate" if active else "promo.deactivate"
            audit.record(
                session, actor, action, f"promo:{code_id}", {"active": not active}, {"active": active}
            )
            return True
