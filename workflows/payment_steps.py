"""The payment workflow's single steps that need no state of the run: each one activity call (or
two) with its timeouts and retries. Kept apart so `workflows/payment.py` reads as the order of
things; these names are not workflow APIs.

Runs started with the `lean-steps` patch (`self.lean`) make their short database and provider steps
local activities: they run inside the workflow task that asks for them, so a run of them costs no
round trip through the server and no activity-task events, and the steps up to the next wait share
one workflow task. Older runs replay their recorded activities.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

from workflows import notices
from workflows.payment_messages import stars_refund_key

with workflow.unsafe.imports_passed_through():
    from activities.ledger import ApplyGrantInput, LedgerActivities
    from activities.payments import (
        FetchInput,
        NotifyInput,
        Order,
        PaymentActivities,
        PaymentEvent,
        RefundChargeInput,
    )
    from activities.purposes import FulfilInput, PurposeActivities
    from activities.referrals import ReferralActivities, RewardInput
    from shop.messaging.telegram_send import BotMessage
    from shop.models import GrantKind, PaymentStatus
    from shop.payments.base import ProviderPayment
    from shop.payments.stars import StarsCharge

SHORT = timedelta(seconds=30)
# A worker that dies mid-activity is noticed this soon (worker.liveness beats while activities run).
ALIVE = timedelta(seconds=10)
# Provider and database calls retry until they work; a bug or a refusal is non-retryable.
PATIENT = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30))


class PaymentSteps:
    _status_is: Callable[[PaymentStatus], None]  # PaymentWorkflow's

    lean = False  # set by the run from its `lean-steps` patch
    compact = False  # set by the run from its `compact-run` patch (workflows/payment.py)

    async def _step(self, method: Any, arg: Any, within: timedelta | None = None) -> Any:
        """A short step (a database write, a provider call): local when lean, else an activity.
        within: how long it may keep retrying (None: until it works)."""
        if self.lean:
            return await workflow.execute_local_activity_method(
                method,
                arg,
                start_to_close_timeout=SHORT,
                schedule_to_close_timeout=within,
                retry_policy=PATIENT,
            )
        return await workflow.execute_activity_method(
            method,
            arg,
            start_to_close_timeout=SHORT,
            schedule_to_close_timeout=within,
            heartbeat_timeout=ALIVE,
            retry_policy=PATIENT,
        )

    async def _notify(self, order: Order, event: PaymentEvent, detail: str = "") -> None:
        try:
            await notices.notify(
                NotifyInput(payment_id=order.payment_id, event=event, detail=detail),
                start_to_close=SHORT,
                schedule_to_close=timedelta(hours=1),
                retry_policy=PATIENT,
                local=self.lean,
                compact=self.compact,
            )
        except (ActivityError, ApplicationError):  # a local activity's failure comes unwrapped
            workflow.logger.warning("payment %s: %s notification failed", order.payment_id, event)

    async def _delivered(self, order: Order) -> list[BotMessage]:
        """A compact run's delivery: one step records "delivered" and composes the card, retried
        until it works, as a status move is. Returns the card's messages, for `_send_card`."""
        inp = NotifyInput(payment_id=order.payment_id, event=PaymentEvent.DELIVERED, record_delivered=True)
        messages: list[BotMessage] = await self._step(PaymentActivities.compose_notices, inp)
        self._status_is(PaymentStatus.DELIVERED)
        return messages

    async def _send_card(self, order: Order, messages: list[BotMessage]) -> None:
        """Composed messages out on the paced queue; one that still fails is logged, as `_notify`
        does."""
        queue = notices.paced_queue(compact=True)
        assert queue is not None
        try:
            await notices.send(messages, queue, schedule_to_close=timedelta(hours=1), retry_policy=PATIENT)
        except ActivityError:
            workflow.logger.warning("payment %s: delivered notification failed", order.payment_id)

    async def _fetch(self, order: Order, provider_payment_id: str) -> ProviderPayment:
        inp = FetchInput(
            method=order.method, provider_payment_id=provider_payment_id, payment_id=order.payment_id
        )
        result: ProviderPayment = await self._step(PaymentActivities.fetch_provider_payment, inp)
        return result

    async def _refund_charge(self, charge: StarsCharge) -> None:
        await workflow.execute_activity_method(
            PaymentActivities.refund_stars_charge,
            RefundChargeInput(user_id=charge.user_id, charge_id=charge.charge_id),
            start_to_close_timeout=SHORT,
            heartbeat_timeout=ALIVE,
            retry_policy=PATIENT,
        )

    async def _revoke(self, order: Order, charge: StarsCharge) -> None:
        # Same source key as the `refunded_payment` update Telegram sends: revoked once either way.
        await workflow.execute_activity_method(
            LedgerActivities.apply_grant,
            ApplyGrantInput(
                subscription_id=order.subscription_id,
                source_key=stars_refund_key(charge.charge_id),
                seconds=-order.seconds,
                kind=GrantKind.REFUND,
                actor="payment:undeliverable",
                product=order.product,
            ),
            start_to_close_timeout=SHORT,
            heartbeat_timeout=ALIVE,
            retry_policy=PATIENT,
        )

    async def _reward_referrer(self, order: Order) -> None:
        """The referrer's share, keyed by the payment id; a failure here is logged, never undoes the
        delivery (already recorded) nor fails the run. A customer without a referrer has none to
        reward: no step (a run whose order predates `referred` looks, as it always did)."""
        if order.referred is False:
            return
        inp = RewardInput(payment_id=order.payment_id)
        try:
            reward = await self._step(ReferralActivities.reward_referrer, inp, within=timedelta(hours=1))
            if reward is not None:
                await workflow.execute_activity_method(
                    ReferralActivities.notify_referrer,
                    inp,
                    task_queue=notices.paced_queue(self.compact),  # one message
                    start_to_close_timeout=SHORT,
                    schedule_to_close_timeout=timedelta(hours=1),
                    retry_policy=PATIENT,
                )
        except (ActivityError, ApplicationError) as error:  # a local step's failure comes unwrapped
            cause = error.cause if isinstance(error, ActivityError) else error
            workflow.logger.warning("payment %s: referral reward failed: %s", order.payment_id, cause)

    async def _fulfil(self, order: Order) -> None:
        """A top-up or a gift: credit the balance or mint the gift code, keyed by the payment."""
        await workflow.execute_activity_method(
            PurposeActivities.fulfil,
            FulfilInput(payment_id=order.payment_id),
            start_to_close_timeout=SHORT,
            heartbeat_timeout=ALIVE,
            retry_policy=PATIENT,
        )
