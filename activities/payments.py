"""Payment activities: thin, idempotent adapters from `PaymentWorkflow` to the providers, the
payments table and Telegram. No HTTP library is imported here: provider clients and the
Telegram gateway are built by the worker and handed in.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Mapping
from datetime import timedelta
from decimal import Decimal
from html import escape
from typing import Protocol

from pydantic import BaseModel
from sqlalchemy import select
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities import purposes
from activities.ledger import ApplyGrantInput
from bot.delivery import access_card_messages, proxy_card_message
from bot.keyboards.admin import payment_notice
from bot.texts import t
from shop.access import ledger
from shop.access.provisioning import enabled_host_ids
from shop.customers.accounts import ensure_subscription
from shop.customers.users import Access, access_of, operator_languages
from shop.db import SessionFactory
from shop.messaging.telegram_send import BotMessage
from shop.models import (
    Payment,
    PaymentMethod,
    PaymentPurpose,
    PaymentStatus,
    Product,
    utcnow,
)
from shop.payments.base import NewPayment, Provider, ProviderPayment, ProviderRejected
from shop.payments.facts import payment_facts
from shop.payments.status import transition
from shop.payments.timeline import EventKind, note, note_grant
from shop.proxy.access import proxy_access
from shop.settings import Settings
from shop.storefront.store import Storefront
from shop.transitions import TransitionRefused

log = logging.getLogger(__name__)


class Telegram(Protocol):
    async def deliver(self, message: BotMessage) -> bool: ...

    async def send(self, chat_id: int, text: str, requeue: bool = False) -> bool: ...

    async def send_access(self, chat_id: int, language: str, access: Access) -> bool: ...

    async def refund_star_payment(self, user_id: int, charge_id: str) -> None: ...


class Timings(BaseModel):
    deadline_seconds: int
    poll_first_seconds: int
    poll_max_seconds: int
    p2p_confirm_seconds: int
    p2p_review_seconds: int


class Order(BaseModel):
    """Our side of a payment, loaded once by the workflow: the truth a provider is checked against."""

    payment_id: str
    user_id: int
    subscription_id: int
    method: PaymentMethod
    amount: Decimal
    currency: str
    seconds: int
    description: str
    status: PaymentStatus
    provider_payment_id: str | None
    pay_url: str | None
    receipt_email: str | None
    test_mode: bool | None
    timings: Timings
    # Histories recorded before purposes existed carry none: they all bought days for the payer.
    purpose: PaymentPurpose = PaymentPurpose.SUBSCRIPTION
    product: Product = Product.VPN  # the plan's: what the grant extends and what gets provisioned
    # Whether the customer has a referrer (set once, when they first came): without one there is no
    # reward to look for. None in histories recorded before it was loaded: the run looks.
    referred: bool | None = None


class PaymentRef(BaseModel):
    payment_id: str


class FetchInput(BaseModel):
    method: PaymentMethod
    provider_payment_id: str
    payment_id: str | None = None  # ours, for the timeline (runs before it was passed: None)


class SetStatusInput(BaseModel):
    payment_id: str
    status: PaymentStatus
    reason: str | None = None
    provider_payment_id: str | None = None


class RecordPaidInput(BaseModel):
    payment_id: str
    provider_payment_id: str | None = None
    grant: ApplyGrantInput
    # A compact run (workflows/payment.py) takes the hosts to try from this step: one step less.
    list_hosts: bool = False


class PaymentEvent(enum.StrEnum):
    DELIVERED = "delivered"
    CANCELED = "canceled"
    EXPIRED = "expired"
    REVIEW = "review"
    UNDELIVERABLE_REFUNDED = "undeliverable_refunded"
    EXTRA_CHARGE_REFUNDED = "extra_charge_refunded"
    TRANSFER_CLAIMED = "transfer_claimed"
    TRANSFER_DECLINED = "transfer_declined"
    REFUND_APPLIED = "refund_applied"
    NO_HOST_YET = "no_host_yet"  # paid and granted, but every host failed its first try
    TOPUP_REFUNDED = "topup_refunded"  # a top-up refunded at its provider: off the balance too


class NotifyInput(BaseModel):
    payment_id: str
    event: PaymentEvent
    detail: str = ""
    # A compact run records "delivered" in the step that composes the card: one step less.
    record_delivered: bool = False


class RefundChargeInput(BaseModel):
    user_id: int
    charge_id: str


# event -> (customer text key or None, operator text key or None); after delivery the customer
# gets the access card instead of a text, and the operators hear of the sale in the next sales
# digest (workflows.sales_digest), not one message per sale.
MESSAGES: dict[PaymentEvent, tuple[str | None, str | None]] = {
    PaymentEvent.DELIVERED: (None, None),
    PaymentEvent.CANCELED: ("pay_canceled", None),
    PaymentEvent.EXPIRED: ("pay_expired", None),
    PaymentEvent.REVIEW: ("pay_review", "op_review"),
    PaymentEvent.UNDELIVERABLE_REFUNDED: ("pay_refunded_undeliverable", "op_refunded_undeliverable"),
    PaymentEvent.EXTRA_CHARGE_REFUNDED: ("pay_extra_charge_refunded", "op_extra_charge_refunded"),
    PaymentEvent.TRANSFER_CLAIMED: ("pay_transfer_claimed", "op_transfer_claimed"),
    PaymentEvent.TRANSFER_DECLINED: ("pay_transfer_declined", None),
    PaymentEvent.REFUND_APPLIED: ("pay_refund_applied", "op_refund_applied"),
    PaymentEvent.NO_HOST_YET: ("pay_no_host_yet", "op_no_host_yet"),
    PaymentEvent.TOPUP_REFUNDED: ("pay_topup_refunded", "op_topup_refunded"),
}


def _refused(error: TransitionRefused) -> ApplicationError:
    """Another writer moved the payment first: retrying cannot help."""
    return ApplicationError(str(error), type="TransitionRefused", non_retryable=True)


class PaymentActivities:
    def __init__(
        self,
        sessions: SessionFactory,
        settings: Settings,
        storefront: Storefront,
        providers: Mapping[PaymentMethod, Provider],
        telegram: Telegram | None,
    ) -> None:
        self.sessions = sessions
        self.settings = settings
        self.storefront = storefront
        self.providers = providers
        self.telegram = telegram

    def _provider(self, method: PaymentMethod) -> Provider:
        provider = self.providers.get(method)
        if provider is None:
            raise ApplicationError(f"{method} is not configured", type="ProviderMissing", non_retryable=True)
        return provider

    def _timings(self) -> Timings:
        s = self.settings
        return Timings(
            deadline_seconds=s.payment_deadline_minutes * 60,
            poll_first_seconds=s.payment_poll_first_seconds,
            poll_max_seconds=s.payment_poll_max_seconds,
            p2p_confirm_seconds=s.p2p_confirm_seconds,
            p2p_review_seconds=s.p2p_review_seconds,
        )

    @activity.defn
    async def load_order(self, inp: PaymentRef) -> Order | None:
        facts = await payment_facts(self.sessions, inp.payment_id)
        if facts is None or (facts.plan_name is None and facts.purpose is not PaymentPurpose.TOPUP):
            return None
        subscription_id = (
            facts.subscription_id or (await ensure_subscription(self.sessions, facts.user_id)).id
        )
        shop_name = (await self.storefront.current()).shop_name
        return Order(
            payment_id=facts.id,
            user_id=facts.user_id,
            subscription_id=subscription_id,
            method=facts.method,
            amount=facts.amount,
            currency=facts.currency,
            seconds=int(timedelta(days=facts.days).total_seconds()),
            description=f"{shop_name}: {facts.plan_name or t('ru', 'topup_description')}",
            status=facts.status,
            provider_payment_id=facts.provider_payment_id,
            pay_url=facts.confirmation_url,
            receipt_email=facts.receipt_email,
            test_mode=self.settings.yookassa_test_mode if facts.method is PaymentMethod.YOOKASSA else None,
            timings=self._timings(),
            purpose=facts.purpose,
            product=facts.product,
            referred=facts.referred,
        )

    @activity.defn
    async def create_provider_payment(self, order: Order) -> ProviderPayment:
        provider = self._provider(order.method)
        async with self.sessions() as session:
            recorded = await session.scalar(
                select(Payment.provider_payment_id).where(Payment.id == order.payment_id)
            )
        if recorded:  # an earlier attempt created it and wrote it down: never create a second
            return await provider.fetch(recorded)
        new = NewPayment(
            payment_id=order.payment_id,
            user_id=order.user_id,
            amount=order.amount,
            currency=order.currency,
            description=order.description,
            receipt_email=order.receipt_email,
        )
        try:
            created = await provider.create(new)
        except ProviderRejected as error:
            raise ApplicationError(str(error), type="ProviderRejected", non_retryable=True) from None
        try:
            await transition(
                self.sessions,
                order.payment_id,
                PaymentStatus.PENDING,
                provider_payment_id=created.provider_payment_id,
                confirmation_url=created.pay_url,
            )
        except TransitionRefused as error:
            raise _refused(error) from None
        await note(self.sessions, order.payment_id, EventKind.LINK_ISSUED, created.provider_payment_id)
        return created

    @activity.defn
    async def fetch_provider_payment(self, inp: FetchInput) -> ProviderPayment:
        try:
            found = await self._provider(inp.method).fetch(inp.provider_payment_id)
        except ProviderRejected as error:
            if inp.payment_id:
                await note(self.sessions, inp.payment_id, EventKind.PROVIDER_CHECK, f"refused: {error}")
            raise ApplicationError(str(error), type="ProviderRejected", non_retryable=True) from None
        if inp.payment_id:
            seen = f"{found.status.value} {found.amount} {found.currency}"
            await note(self.sessions, inp.payment_id, EventKind.PROVIDER_CHECK, seen)
        return found

    @activity.defn
    async def set_status(self, inp: SetStatusInput) -> PaymentStatus:
        try:
            return await self._move(inp)
        except TransitionRefused as error:
            raise _refused(error) from None

    async def _move(self, inp: SetStatusInput) -> PaymentStatus:
        """The status change and its timeline line; raises TransitionRefused."""
        fields: dict[str, object] = {}
        if inp.reason is not None:
            fields["review_reason"] = inp.reason[:1000]
        if inp.provider_payment_id is not None:
            fields["provider_payment_id"] = inp.provider_payment_id
        if inp.status is PaymentStatus.SUCCEEDED:
            fields["paid_at"] = utcnow()
        if inp.status is PaymentStatus.DELIVERED:
            fields["delivered_at"] = utcnow()
        return await transition(
            self.sessions, inp.payment_id, inp.status, noted_by="workflow", reason=inp.reason, **fields
        )

    @activity.defn
    async def record_paid(self, inp: RecordPaidInput) -> list[int] | None:
        """Paid, then its grant: the two always go together. Each half is idempotent (a transition
        already made is a no-op, the grant is keyed by the payment id), so a retry redoes nothing.
        A payment found delivered is past paid, not refused: a lean run's local steps from here to
        the delivery can share one workflow task, and run again when a killed worker loses it.
        With `list_hosts`, returns the enabled hosts the client goes to (else None)."""
        paid = SetStatusInput(
            payment_id=inp.payment_id,
            status=PaymentStatus.SUCCEEDED,
            provider_payment_id=inp.provider_payment_id,
        )
        try:
            await self._move(paid)
        except TransitionRefused as error:
            if error.current is not PaymentStatus.DELIVERED:
                raise _refused(error) from None
        g = inp.grant
        granted = await ledger.grant(
            self.sessions,
            g.subscription_id,
            g.source_key,
            timedelta(seconds=g.seconds),
            g.kind,
            g.actor,
            product=g.product,
        )
        applied, expiry = granted.applied, granted.grant_expiry
        await note_grant(self.sessions, inp.payment_id, g.seconds, expiry, applied, g.actor)
        return await enabled_host_ids(self.sessions) if inp.list_hosts else None

    @activity.defn
    async def notify(self, inp: NotifyInput) -> None:
        """Tell the customer and/or the operators. At-least-once: a retry may repeat a message.
        Runs started before the bot's paced queue (workflows.notices) still call it."""
        if self.telegram is None:
            log.warning("payment %s: %s not sent: the bot is not configured", inp.payment_id, inp.event)
            return
        for message in await self.compose_notices(inp):
            await self.telegram.deliver(message)

    @activity.defn
    async def compose_notices(self, inp: NotifyInput) -> list[BotMessage]:
        """The messages of a payment event, in order; each goes out as its own paced activity. With
        `record_delivered`, the payment is first recorded delivered (as `set_status` would)."""
        if inp.record_delivered:
            await self.set_status(SetStatusInput(payment_id=inp.payment_id, status=PaymentStatus.DELIVERED))
        if self.telegram is None:
            log.warning("payment %s: %s not sent: the bot is not configured", inp.payment_id, inp.event)
            return []
        payment = await payment_facts(self.sessions, inp.payment_id)
        assert payment is not None
        user_id, language = payment.user_id, payment.language
        values = {
            "payment_id": payment.id,
            "method": payment.method.value,
            "amount": payment.amount,
            "currency": payment.currency,
            "user_id": user_id,
            "detail": escape(inp.detail),
            "expires": payment.expires_at.strftime("%Y-%m-%d %H:%M UTC") if payment.expires_at else "-",
            "url": f"{self.settings.base_url}/sub/{payment.subscription_token}"
            if payment.subscription_token
            else "",
        }
        messages: list[BotMessage] = []
        customer_key, operator_key = MESSAGES[inp.event]
        if inp.event is PaymentEvent.DELIVERED and payment.purpose is not PaymentPurpose.SUBSCRIPTION:
            text = await purposes.delivered_text(self.sessions, self.settings, payment)
            messages.append(BotMessage(chat_id=user_id, text=text, what=f"{payment.purpose.value} message"))
        elif inp.event is PaymentEvent.DELIVERED and payment.product is Product.PROXY:
            proxy = await proxy_access(self.sessions, user_id)
            messages.append(proxy_card_message(user_id, language, proxy, self.settings))
        elif inp.event is PaymentEvent.DELIVERED:
            access = await access_of(self.sessions, user_id)
            messages += access_card_messages(user_id, language, access, self.settings)
        elif customer_key:
            messages.append(
                BotMessage(chat_id=user_id, text=t(language, customer_key, **values), what=customer_key)
            )
        if operator_key:
            decide = inp.event is PaymentEvent.TRANSFER_CLAIMED
            for admin_id, language in (await operator_languages(self.sessions, self.settings)).items():
                markup = payment_notice(language, self.settings, payment.id, decide)
                messages.append(
                    BotMessage(
                        chat_id=admin_id,
                        text=t(language, operator_key, **values),
                        markup=markup.model_dump(mode="json", exclude_none=True),
                        what=f"payment {payment.id} notice",
                    )
                )
        # The timeline says what goes out to whom; each message is then sent (and paced) on its own.
        to = {user_id: "the customer"}
        told = "; ".join(f"{m.what} to {to.get(m.chat_id, m.chat_id)}" for m in messages)
        await note(
            self.sessions, payment.id, EventKind.NOTICE, f"{inp.event.value}: {told or 'nothing to send'}"
        )
        return messages

    @activity.defn
    async def refund_stars_charge(self, inp: RefundChargeInput) -> None:
        if self.telegram is None:
            raise ApplicationError("cannot refund Stars: the bot is not configured", type="BotMissing")
        await self.telegram.refund_star_payment(inp.user_id, inp.charge_id)
