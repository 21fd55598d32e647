"""Minting a payment: its amount fixed when its id is first used, with the invitee's referral
discount and the customer's chosen promo code (whose use is reserved in the same transaction),
so the provider is later checked against this exact amount. Top-ups carry the amount the
customer picked and no plan."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from shop.customers import referrals
from shop.db import SessionFactory
from shop.models import (
    Payment,
    PaymentEventRow,
    PaymentMethod,
    PaymentPurpose,
    Plan,
    Product,
    PromoKind,
    utcnow,
)
from shop.payments.plans import has_paid, view
from shop.payments.stars import CURRENCY as STARS_CURRENCY
from shop.payments.timeline import EventKind
from shop.promo import codes, uses
from shop.promo.codes import PromoRefused
from shop.proxy.access import proxy_on_sale
from shop.storefront.fields import OwnerSettings

TOPUP_MIN, TOPUP_MAX = Decimal(10), Decimal(100_000)
# Only money from outside tops the balance up: not the balance itself, not Stars (no RUB amount).
TOPUP_METHODS = frozenset({PaymentMethod.YOOKASSA, PaymentMethod.CRYPTOPAY, PaymentMethod.P2P})


class CheckoutError(Exception):
    """The checkout cannot go on; `key` names the customer text in the bot catalogues."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _created(payment: Payment, what: str) -> PaymentEventRow:
    """The timeline's first line, added in the payment's own transaction."""
    return PaymentEventRow(
        payment_id=payment.id,
        kind=EventKind.CREATED.value,
        detail=f"{payment.method.value} {payment.amount} {payment.currency}, {what}",
        actor=f"customer:{payment.user_id}",
    )


async def _insert(sessions: SessionFactory, payment: Payment) -> None:
    async with sessions() as session:
        session.add_all([payment, _created(payment, "balance top-up")])
        try:
            await session.commit()
        except IntegrityError:
            await session.rollback()  # the other click inserted it first: the caller reads theirs


async def mint_topup(
    sessions: SessionFactory,
    payment_id: str,
    user_id: int,
    method: PaymentMethod,
    amount: Decimal,
    currency: str,
) -> None:
    if method not in TOPUP_METHODS:
        raise CheckoutError("pay_method_unavailable")
    if not TOPUP_MIN <= amount <= TOPUP_MAX:
        raise CheckoutError("topup_amount_bad")
    payment = Payment(
        id=payment_id, user_id=user_id, plan_id=None, method=method, amount=amount, currency=currency,
        purpose=PaymentPurpose.TOPUP,
    )  # fmt: skip
    await _insert(sessions, payment)


async def mint_plan_payment(
    sessions: SessionFactory,
    owner: OwnerSettings,
    payment_id: str,
    user_id: int,
    plan_id: int,
    method: PaymentMethod,
    receipt_email: str | None,
    purpose: PaymentPurpose,
    hold: timedelta,
) -> None:
    """The payment for a plan (for the payer or as a gift); CheckoutError when it cannot be sold."""
    discount = await referrals.first_purchase_discount(sessions, owner, user_id)
    paid_before = await has_paid(sessions, user_id)
    code = await codes.chosen(sessions, user_id)
    try:
        async with sessions() as session:
            plan = await session.get(Plan, plan_id)
            if plan is None or not plan.active:
                raise CheckoutError("pay_plan_unavailable")
            offer = view(plan)
            stars = owner.stars_price(plan.price_stars, plan.price)
            # The bot shows only what fits; this holds when a button outlived an operator's change.
            if not offer.sells(method, stars):
                raise CheckoutError("pay_method_unavailable")
            if purpose is PaymentPurpose.SUBSCRIPTION and not offer.offered_to(paid_before):
                raise CheckoutError("pay_plan_unavailable")
            # An opened gift grants VPN days (shop.gifts), so a gift is only ever a VPN plan, even
            # when a crafted button names another.
            if purpose is PaymentPurpose.GIFT and offer.product is not Product.VPN:
                raise CheckoutError("pay_plan_unavailable")
            if offer.product is Product.PROXY and not await proxy_on_sale(sessions):
                raise CheckoutError("proxy_unavailable")
            terms = None
            if code is not None and code.kind is not PromoKind.FREE_DAYS:
                terms = codes.check(code, utcnow(), paid_before, plan.id, counted=False)
            rub = referrals.discounted(plan.price, discount)
            worth = terms.price(rub) if terms else rub
            if method is PaymentMethod.STARS:
                assert stars is not None  # sells() refuses Stars without a Stars price
                amount = Decimal(referrals.discounted_stars(stars, discount))
                if terms:
                    amount = Decimal(terms.stars(int(amount), rub))
                currency = STARS_CURRENCY
            else:
                amount, currency = worth, plan.currency
            payment = Payment(
                id=payment_id, user_id=user_id, plan_id=plan_id, method=method, amount=amount,
                currency=currency, receipt_email=receipt_email, discount_percent=discount,
                price_rub=worth, purpose=purpose,
            )  # fmt: skip
            what = f"plan {plan.name}" + (" as a gift" if purpose is PaymentPurpose.GIFT else "")
            session.add_all([payment, _created(payment, what)])
            try:
                await session.flush()
                if terms is not None and code is not None:
                    await uses.reserve(
                        session, code, user_id, payment_id, rub - worth, terms.bonus_days, hold=hold
                    )
                await session.commit()
            except IntegrityError:
                await session.rollback()
                # Another click minted this id first (theirs stands), or the code was used already.
                if await session.scalar(select(Payment.id).where(Payment.id == payment_id)) is None:
                    raise PromoRefused("promo_already_used") from None
    except PromoRefused as refused:
        await codes.forget(sessions, user_id)  # a code that cannot apply is not kept for later
        raise CheckoutError(refused.key) from None
