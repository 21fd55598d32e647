"""The payment sweep: level-triggered, so a missed, failed or overlapping run is harmless.

Providers are asked which payments succeeded recently; any of ours not yet delivered gets a
signal-with-start (the workflow re-fetches and delivers). Paid-but-unsettled rows are nudged the
same way, and checkouts nobody paid for are expired.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Protocol

from pydantic import BaseModel
from sqlalchemy import select
from temporalio import activity

from shop.db import SessionFactory
from shop.models import Payment, PaymentMethod, PaymentStatus, utcnow
from shop.payments.base import Provider, ProviderError
from shop.payments.hints import Delivery, check_provider, find_payment, record_stars_charge
from shop.payments.stars import StarsCharge
from shop.payments.status import transition
from shop.settings import Settings
from shop.transitions import TransitionRefused
from workflows.payment_messages import PaymentRow

log = logging.getLogger(__name__)
S = PaymentStatus


class SweepInput(BaseModel):
    lookback_hours: int | None = None  # None: the configured lookback


class SweepReport(BaseModel):
    signaled: list[str] = []
    late: list[str] = []  # paid at the provider after we closed them: need a human
    expired: list[str] = []
    refunded: list[str] = []  # Stars charges no open payment could take (paid twice)
    errors: list[str] = []


class StarLedger(Protocol):
    """Telegram's record of Stars charges (`shop.payments.star_transactions`)."""

    async def charges_since(self, since: datetime) -> list[StarsCharge]: ...


class SweepActivities:
    def __init__(
        self,
        sessions: SessionFactory,
        settings: Settings,
        providers: Mapping[PaymentMethod, Provider],
        stars: StarLedger | None = None,
    ):
        self.sessions = sessions
        self.settings = settings
        self.providers = providers
        self.stars = stars

    async def _nudge(self, payment: PaymentRow, report: SweepReport) -> None:
        client = activity.client()
        delivery = await check_provider(client, self.settings.temporal_task_queue, payment, source="sweeper")
        if delivery is Delivery.SIGNALED:
            report.signaled.append(payment.id)

    async def _sweep_provider(self, provider: Provider, lookback: timedelta, report: SweepReport) -> None:
        try:
            paid = await provider.list_paid(utcnow() - lookback)
        except ProviderError as error:
            report.errors.append(f"{provider.method}: {error}")
            return
        for item in paid:
            payment = await find_payment(
                self.sessions, provider.method, item.provider_payment_id, item.order_ref
            )
            if payment is None or payment.status in (S.DELIVERED, S.REVIEW, S.REFUNDED):
                continue
            if payment.status in (S.EXPIRED, S.CANCELED):
                report.late.append(payment.id)
            elif payment.id not in report.signaled:
                await self._nudge(payment, report)

    async def _sweep_stars(self, stars: StarLedger, lookback: timedelta, report: SweepReport) -> None:
        """Charges Telegram made whose `successful_payment` we never recorded."""
        try:
            charges = await stars.charges_since(utcnow() - lookback)
        except ProviderError as error:
            report.errors.append(f"stars: {error}")
            return
        for charge in charges:
            payment = await find_payment(self.sessions, PaymentMethod.STARS, charge.charge_id, charge.payload)
            if payment is None:
                log.warning(
                    "stars charge %s for unknown payload %r: left alone", charge.charge_id, charge.payload
                )
            elif payment.provider_payment_id == charge.charge_id or payment.status is S.REVIEW:
                continue  # recorded already, or a human has it
            elif payment.status in (S.EXPIRED, S.CANCELED):
                report.late.append(payment.id)
            else:
                # An open payment takes the charge; a settled one refunds it (a second payment).
                queue = self.settings.temporal_task_queue
                await record_stars_charge(activity.client(), queue, self.sessions, charge)
                if payment.status in (S.DELIVERED, S.REFUNDED):
                    report.refunded.append(charge.charge_id)
                else:
                    report.signaled.append(payment.id)

    @activity.defn
    async def sweep_payments(self, inp: SweepInput) -> SweepReport:
        report = SweepReport()
        lookback = timedelta(hours=inp.lookback_hours or self.settings.payment_sweep_lookback_hours)
        for provider in self.providers.values():
            await self._sweep_provider(provider, lookback, report)
            activity.heartbeat(provider.method.value)
        if self.stars is not None:
            await self._sweep_stars(self.stars, lookback, report)
            activity.heartbeat("stars")
        now = utcnow()
        quiet = now - timedelta(seconds=self.settings.payment_poll_max_seconds * 2)
        stale = now - timedelta(minutes=self.settings.payment_deadline_minutes)
        async with self.sessions() as session:
            unsettled = (
                await session.scalars(
                    select(Payment).where(
                        ((Payment.status == S.SUCCEEDED) | (Payment.status == S.PENDING))
                        & (Payment.updated_at < quiet)
                    )
                )
            ).all()
            unpaid = (
                await session.scalars(
                    select(Payment.id).where(Payment.status == S.CREATED, Payment.created_at < stale)
                )
            ).all()
        for payment in unsettled:  # a workflow lost (retention, termination) is started again
            if payment.id not in report.signaled:
                await self._nudge(payment, report)
        for payment_id in unpaid:
            if payment_id in report.signaled:
                continue  # a Stars charge just found for it: its workflow settles it
            try:
                await transition(self.sessions, payment_id, S.EXPIRED, review_reason="never paid")
                report.expired.append(payment_id)
            except TransitionRefused:
                pass  # it moved on meanwhile: someone is paying it
        return report
