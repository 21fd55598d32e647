"""The bot's checkout: the buy screens' one door into the payments area (PaymentWorkflow, providers).

The bot shows plans, then the methods `Checkout.methods()` lists; picking one calls `open_payment`,
which records a payment with our ID (so the ID is bound to this customer, plan and method before
any button carries it); the pay button carries that ID, and each tap calls `pay`, which starts or
joins `payment:<id>` (update-with-start, DB fallback), so a double tap reaches the same workflow and
the same link. P2P: the customer's "I have paid" and the operator's decision go to that workflow.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta
from decimal import Decimal

from shop.balance import ledger as balance_ledger
from shop.context import AppContext
from shop.customers import referrals
from shop.models import Payment, PaymentMethod, PaymentPurpose, PaymentStatus, Plan, PromoKind, utcnow
from shop.operators import audit
from shop.operators.audit import Actor
from shop.operators.roles import role_of
from shop.payments import hints, pricing, timeline
from shop.payments.plans import PlanView, has_paid
from shop.payments.service import (
    CheckoutError,
    available_methods,
    new_payment_id,
    record_payment,
    record_transfer_claim,
    start_checkout,
)
from shop.payments.status import FINAL
from shop.payments.timeline import EventKind
from shop.promo import codes, uses

CLOSED = FINAL | {PaymentStatus.SUCCEEDED}


class PaymentNotFound(LookupError):
    """Unknown payment ID, or one that belongs to another customer: the bot says so and stops."""


class PaymentClosed(Exception):
    """The payment can no longer be paid (paid, expired, cancelled, its method switched off)."""


class DiscountSpent(PaymentClosed):
    """A discounted order opened before the invitee's first purchase, tapped after it: start anew."""


class PromoLost(PaymentClosed):
    """The order's promo code use was given back (the order was abandoned, then made again)."""


class BalanceTooLow(Exception):
    """A balance payment the balance does not cover: nothing was debited."""


class PaymentNotReady(Exception):
    """The provider's link is not there yet (a slow provider, a busy worker): tap again later."""


@dataclass(frozen=True)
class OpenedPayment:
    """A recorded order: its ID for the pay button, and the amount fixed for it."""

    payment_id: str
    amount: Decimal
    currency: str
    discount_percent: int  # the invitee's first-purchase discount included in `amount`
    promo_code: str = ""  # the customer's code fixed into this order, "" when none
    promo_discount: Decimal = Decimal(0)  # RUB off by that code
    bonus_days: int = 0  # days a promo code adds to the plan's


@dataclass(frozen=True)
class PaymentOffer:
    """What the customer needs to pay one payment; exactly one of url / stars / requisites is set."""

    payment_id: str
    method: PaymentMethod
    amount: Decimal
    currency: str
    title: str  # the plan's name, for the invoice
    days: int
    url: str | None = None  # YooKassa confirmation URL, Crypto Pay invoice URL
    stars: int | None = None  # Telegram Stars: the bot sends an XTR invoice with payload = payment_id
    requisites: str | None = None  # manual P2P transfer: card/phone to pay to
    paid: bool = False  # paid from the balance: nothing more to pay, delivery is under way


class Checkout:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    async def methods(self, plan: PlanView, user_id: int | None = None) -> list[PaymentMethod]:
        """The methods that are enabled and configured and can pay this plan, in display order;
        the balance only for a customer who has money on it."""
        owner = await self.ctx.storefront.current()
        stars = owner.stars_price(plan.price_stars, plan.price)
        has_money = user_id is not None and await balance_ledger.balance(self.ctx.sessions, user_id) > 0
        return [
            method
            for method in available_methods(self.ctx.settings, owner)
            if plan.sells(method, stars) and (method is not PaymentMethod.BALANCE or has_money)
        ]

    async def topup_methods(self) -> list[PaymentMethod]:
        owner = await self.ctx.storefront.current()
        return [m for m in available_methods(self.ctx.settings, owner) if m in pricing.TOPUP_METHODS]

    async def discount(self, user_id: int) -> int:
        """The percent off the customer's next order (an invitee's first purchase), 0 when none."""
        owner = await self.ctx.storefront.current()
        return await referrals.first_purchase_discount(self.ctx.sessions, owner, user_id)

    async def open_payment(
        self,
        user_id: int,
        plan_id: int | None,
        method: PaymentMethod,
        purpose: PaymentPurpose = PaymentPurpose.SUBSCRIPTION,
        topup: Decimal | None = None,
    ) -> OpenedPayment:
        """Records a new payment for this pick, its amount fixed now (LookupError: plan or method
        gone; CheckoutError: the chosen promo code cannot apply, a top-up amount out of range, the
        proxy no longer on sale)."""
        owner = await self.ctx.storefront.current()
        if method not in available_methods(self.ctx.settings, owner):
            raise LookupError(method)
        hold = timedelta(minutes=self.ctx.settings.payment_deadline_minutes)
        try:
            payment = await record_payment(
                self.ctx.sessions, owner, new_payment_id(), user_id, plan_id, method,
                purpose=purpose, topup=topup, hold=hold,
            )  # fmt: skip
        except CheckoutError as refused:
            if refused.key.startswith(("promo_", "topup_", "proxy_")):
                raise
            raise LookupError(refused.key) from None
        promo = await uses.of_payment(self.ctx.sessions, payment.id)
        if promo is None:
            return OpenedPayment(payment.id, payment.amount, payment.currency, payment.discount_percent)
        code = await codes.text_of(self.ctx.sessions, promo.code_id)
        return OpenedPayment(
            payment.id, payment.amount, payment.currency, payment.discount_percent,
            code, promo.discount, promo.bonus_days,
        )  # fmt: skip

    async def promo_terms(self, user_id: int, plan_id: int) -> codes.Terms | None:
        """The customer's chosen code as it would apply to this plan now; None when none would."""
        code = await codes.chosen(self.ctx.sessions, user_id)
        if code is None or code.kind is PromoKind.FREE_DAYS:
            return None
        try:
            return codes.check(code, utcnow(), await has_paid(self.ctx.sessions, user_id), plan_id)
        except codes.PromoRefused:
            return None  # the order says why when it is made

    async def _own(self, user_id: int, payment_id: str) -> tuple[Payment, Plan | None]:
        """The customer's payment and its plan (None for a top-up)."""
        async with self.ctx.sessions() as session:
            payment = await session.get(Payment, payment_id[:40])
            plan = await session.get(Plan, payment.plan_id) if payment and payment.plan_id else None
        if payment is None or payment.user_id != user_id:
            raise PaymentNotFound(payment_id)
        if plan is None and payment.purpose is not PaymentPurpose.TOPUP:
            raise PaymentNotFound(payment_id)
        return payment, plan

    async def pay(self, user_id: int, payment_id: str) -> PaymentOffer:
        """Starts or joins the payment's workflow; raises PaymentNotFound / PaymentClosed /
        PaymentNotReady."""
        payment, plan = await self._own(user_id, payment_id)
        from_balance = payment.method is PaymentMethod.BALANCE
        # A balance payment is `succeeded` once debited: a tap again starts its workflow if need be.
        if payment.status in CLOSED and not (from_balance and payment.status is PaymentStatus.SUCCEEDED):
            raise PaymentClosed(payment_id)
        unpaid = payment.status is PaymentStatus.CREATED
        if unpaid and await referrals.discount_spent(self.ctx.sessions, payment):
            raise DiscountSpent(payment_id)
        if unpaid and await uses.hold_lost(self.ctx.sessions, payment.id):
            raise PromoLost(payment_id)
        try:
            started = await start_checkout(
                self.ctx, user_id, plan.id if plan else None, payment.method, payment.id
            )
        except CheckoutError as refused:  # the method was switched off since the order was shown
            if refused.key == "pay_balance_short":
                raise BalanceTooLow(payment_id) from None
            raise PaymentClosed(payment_id) from None
        days = plan.duration_days if plan else 0
        offer = PaymentOffer(
            payment.id, payment.method, payment.amount, payment.currency, plan.name if plan else "", days
        )
        if from_balance:
            return replace(offer, paid=True)
        if started.stars_invoice is not None:
            return replace(offer, stars=started.stars_invoice.amount)
        if started.status in CLOSED:
            raise PaymentClosed(payment_id)
        if started.requisites:
            return replace(offer, requisites=started.requisites)
        if started.pay_url is None:
            raise PaymentNotReady(payment_id)
        return replace(offer, url=started.pay_url)

    async def confirm_transfer(self, user_id: int, payment_id: str) -> bool:
        """P2P: the customer says they paid; True once the workflow holds it. The workflow tells the
        operators once, however many taps."""
        payment, _ = await self._own(user_id, payment_id)
        if payment.method is not PaymentMethod.P2P:
            raise PaymentNotFound(payment_id)
        if payment.status in CLOSED:
            raise PaymentClosed(payment_id)
        client, queue = self.ctx.require_temporal(), self.ctx.settings.temporal_task_queue
        if await hints.confirm_transfer(client, queue, payment) is hints.Delivery.CLOSED:
            raise PaymentClosed(payment_id)
        # After the signal: the operators' list shows only transfers the workflow holds a claim for.
        await record_transfer_claim(self.ctx.sessions, payment.id)
        return True

    async def review(
        self, operator_id: int, payment_id: str, approve: bool, via: str = "bot", reason: str = ""
    ) -> bool:
        """An operator's P2P decision, from the bot or the console; False when it was already decided
        (a double tap, another operator) or the transfer is no longer waiting for one. The decision
        that counts is audited; each one is on the payment's timeline."""
        if role_of(self.ctx.settings, operator_id) is None:
            raise PermissionError(operator_id)
        async with self.ctx.sessions() as session:
            payment = await session.get(Payment, payment_id[:40])
        if payment is None:
            raise PaymentNotFound(payment_id)
        decided = await hints.decide_transfer(self.ctx.require_temporal(), payment, approve, operator_id)
        verb = "approved" if approve else "declined"
        detail = f"transfer {verb} ({via})" if decided else f"{verb} ({via}) refused: already decided"
        who = f"operator:{operator_id}"
        await timeline.note(self.ctx.sessions, payment.id, EventKind.OPERATOR, detail, who)
        if decided:
            action = "payment.approve" if approve else "payment.decline"
            values = {"amount": payment.amount, "currency": payment.currency, "user": payment.user_id}
            await audit.write(
                self.ctx.sessions,
                Actor(operator_id, via),
                action,
                f"payment:{payment.id}",
                after=values,
                reason=reason,
            )
        return decided
