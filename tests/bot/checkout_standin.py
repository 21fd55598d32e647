"""A stand-in for the payments area's `Checkout`, over real `payments` rows, until that area lands:
it lets the bot's buy screens be tested end to end (pay button, double tap, another user's payment)."""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import replace

from shop.checkout import PaymentClosed, PaymentNotFound, PaymentOffer
from shop.db import SessionFactory
from shop.models import Payment, PaymentMethod, PaymentStatus, Plan

CLOSED = {PaymentStatus.SUCCEEDED, PaymentStatus.DELIVERED, PaymentStatus.CANCELED, PaymentStatus.EXPIRED}


class StandInCheckout:
    def __init__(self, sessions: SessionFactory, methods: list[PaymentMethod]) -> None:
        self.sessions = sessions
        self.enabled = methods
        self.pay_calls: Counter[str] = Counter()

    def methods(self) -> list[PaymentMethod]:
        return list(self.enabled)

    async def open_payment(self, user_id: int, plan_id: int, method: PaymentMethod) -> str:
        async with self.sessions() as session, session.begin():
            plan = await session.get(Plan, plan_id)
            if plan is None:
                raise LookupError(plan_id)
            payment = Payment(
                id=uuid.uuid4().hex, user_id=user_id, plan_id=plan_id, method=method, amount=plan.price,
                currency=plan.currency,
            )  # fmt: skip
            session.add(payment)
            return payment.id

    async def _own(self, user_id: int, payment_id: str) -> tuple[Payment, Plan]:
        async with self.sessions() as session:
            payment = await session.get(Payment, payment_id)
            if payment is None or payment.user_id != user_id:
                raise PaymentNotFound(payment_id)
            plan = await session.get(Plan, payment.plan_id)
            assert plan is not None
            return payment, plan

    async def pay(self, user_id: int, payment_id: str) -> PaymentOffer:
        payment, plan = await self._own(user_id, payment_id)
        if payment.status in CLOSED:
            raise PaymentClosed(payment_id)
        self.pay_calls[payment_id] += 1
        offer = PaymentOffer(
            payment.id, payment.method, payment.amount, payment.currency, plan.name, plan.duration_days
        )
        if payment.method is PaymentMethod.STARS:
            return replace(offer, stars=plan.price_stars)
        if payment.method is PaymentMethod.P2P:
            return replace(offer, requisites="2200 0000 0000 0000")
        return replace(offer, url=f"https://pay.example/{payment.id}")

    async def _move(self, payment_id: str, source: PaymentStatus, target: PaymentStatus) -> bool:
        async with self.sessions() as session, session.begin():
            payment = await session.get(Payment, payment_id)
            if payment is None:
                raise PaymentNotFound(payment_id)
            if payment.status is not source:
                return False
            payment.status = target
            return True

    async def confirm_transfer(self, user_id: int, payment_id: str) -> bool:
        await self._own(user_id, payment_id)
        return await self._move(payment_id, PaymentStatus.CREATED, PaymentStatus.REVIEW)

    async def review(self, operator_id: int, payment_id: str, approve: bool) -> bool:
        target = PaymentStatus.SUCCEEDED if approve else PaymentStatus.CANCELED
        return await self._move(payment_id, PaymentStatus.REVIEW, target)
