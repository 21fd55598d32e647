"""Checkout, used by the bot: mint a payment when the customer picks a method, then start (or
reach again) its one workflow and hand back the way to pay.

A double click carries the same payment id, so it reaches the same row and the same workflow.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from datetime import timedelta
from decimal import Decimal

from pydantic import BaseModel
from sqlalchemy import select, update
from temporalio.client import Client, WithStartWorkflowOperation, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from shop.balance import purchase
from shop.balance.ledger import BalanceShort
from shop.context import AppContext
from shop.db import SessionFactory
from shop.models import Payment, PaymentMethod, PaymentPurpose, PaymentStatus, Plan, utcnow
from shop.payments import hints, pricing, timeline
from shop.payments.pricing import CheckoutError
from shop.payments.stars import StarsCharge, StarsInvoice, pre_checkout_problem
from shop.payments.timeline import EventKind
from shop.settings import Settings
from shop.storefront.fields import OwnerSettings
from workflows.payment import PaymentWorkflow
from workflows.payment_messages import PaymentLink, payment_input, stars_refund_key
from workflows.refund import RefundInput

log = logging.getLogger(__name__)
LINK_WAIT = timedelta(seconds=8)


class Checkout(BaseModel):
    payment_id: str
    method: PaymentMethod
    status: PaymentStatus
    amount: Decimal
    currency: str
    pay_url: str | None = None
    stars_invoice: StarsInvoice | None = None
    requisites: str | None = None


def new_payment_id() -> str:
    return secrets.token_hex(10)


def available_methods(settings: Settings, owner: OwnerSettings) -> list[PaymentMethod]:
    """The methods the owner switched on that can take money: credentials in the environment
    (YooKassa, Crypto Pay) or requisites in the owner's settings (P2P)."""
    configured = {
        PaymentMethod.YOOKASSA: bool(settings.yookassa_shop_id and settings.yookassa_secret_key),
        PaymentMethod.CRYPTOPAY: settings.cryptopay_token is not None,
        PaymentMethod.STARS: True,
        PaymentMethod.P2P: bool(owner.p2p_requisites),
        PaymentMethod.BALANCE: True,
    }
    return [method for method, ready in configured.items() if ready and owner.method_enabled(method)]


async def record_payment(
    sessions: SessionFactory,
    owner: OwnerSettings,
    payment_id: str,
    user_id: int,
    plan_id: int | None,
    method: PaymentMethod,
    receipt_email: str | None = None,
    *,
    purpose: PaymentPurpose | None = None,
    topup: Decimal | None = None,
    hold: timedelta = timedelta(hours=2),
) -> Payment:
    """The payment row for this id, created on first use; refuses an id bound to another order.

    The amount is fixed here (`shop.payments.pricing`), with an invitee's first-purchase discount
    and the customer's promo code for every method alike, so the provider is later checked against
    this exact amount. `purpose` None: whatever the recorded payment buys (a subscription when new);
    a top-up has no plan and carries its `topup` amount."""
    async with sessions() as session:
        existing = await session.get(Payment, payment_id)
    if existing is None:
        if purpose is PaymentPurpose.TOPUP:
            if topup is None:
                raise CheckoutError("pay_unknown")
            await pricing.mint_topup(sessions, payment_id, user_id, method, topup, "RUB")
        elif plan_id is None:
            raise CheckoutError("pay_unknown")
        else:
            await pricing.mint_plan_payment(
                sessions, owner, payment_id, user_id, plan_id, method, receipt_email,
                purpose or PaymentPurpose.SUBSCRIPTION, hold,
            )  # fmt: skip
        async with sessions() as session:
            existing = await session.scalar(select(Payment).where(Payment.id == payment_id))
        assert existing is not None
    if (existing.user_id, existing.plan_id, existing.method) != (user_id, plan_id, method) or (
        purpose is not None and existing.purpose is not purpose
    ):
        raise CheckoutError("pay_unknown")
    return existing


async def record_transfer_claim(sessions: SessionFactory, payment_id: str) -> None:
    """P2P: when the customer first said "I have paid", so "Payments to review" lists the transfer."""
    async with sessions() as session, session.begin():
        claimed = await session.execute(
            update(Payment)
            .where(Payment.id == payment_id, Payment.transfer_claimed_at.is_(None))
            .values(transfer_claimed_at=utcnow())
        )
    if claimed.rowcount:  # type: ignore[attr-defined]
        await timeline.note(sessions, payment_id, EventKind.TRANSFER_CLAIMED, "", "customer")


async def _link(client: Client, payment: Payment, task_queue: str) -> PaymentLink | None:
    start = WithStartWorkflowOperation(
        PaymentWorkflow.run, payment_input(payment), **hints.start_options(payment, task_queue)
    )
    try:
        return await client.execute_update_with_start_workflow(
            PaymentWorkflow.payment_link,
            start_workflow_operation=start,
            id=f"link:{payment.id}",
            rpc_timeout=LINK_WAIT,
        )
    except WorkflowAlreadyStartedError:
        return None  # closed: the row says how it ended
    except (WorkflowUpdateRPCTimeoutOrCancelledError, RPCError) as error:
        # The workflow is started (or was); the link may simply not be ready yet.
        log.warning("payment %s: link not ready: %s", payment.id, error)
        return None
    finally:
        # Retrieve the start's outcome, or the SDK logs a failed start as never retrieved.
        with contextlib.suppress(Exception):
            await asyncio.wait_for(start.workflow_handle(), timeout=0.1)


async def start_checkout(
    ctx: AppContext,
    user_id: int,
    plan_id: int | None,
    method: PaymentMethod,
    payment_id: str,
    receipt_email: str | None = None,
) -> Checkout:
    """Idempotent per `payment_id`: every click returns the same payment and the same link.
    A balance payment is debited here, once (CheckoutError "pay_balance_short" when short), and
    its workflow starts already paid."""
    owner = await ctx.storefront.current()
    if method not in available_methods(ctx.settings, owner):
        raise CheckoutError("pay_method_unavailable")
    payment = await record_payment(ctx.sessions, owner, payment_id, user_id, plan_id, method, receipt_email)
    if method is PaymentMethod.BALANCE:
        try:
            await purchase.pay_from_balance(ctx.sessions, payment.id)
        except BalanceShort:
            raise CheckoutError("pay_balance_short") from None
        payment = await _payment(ctx, payment.id) or payment
    checkout = Checkout(
        payment_id=payment.id,
        method=method,
        status=payment.status,
        amount=payment.amount,
        currency=payment.currency,
        pay_url=payment.confirmation_url,
    )
    if method is PaymentMethod.STARS:
        # Telegram creates the charge; the workflow starts when `successful_payment` arrives.
        async with ctx.sessions() as session:
            plan = await session.get(Plan, plan_id)
        assert plan is not None
        checkout.stars_invoice = StarsInvoice(
            title=plan.name[:32], description=plan.name[:255], payload=payment.id, amount=int(payment.amount)
        )
        return checkout
    if method is PaymentMethod.P2P:
        checkout.requisites = owner.p2p_requisites
    link = await _link(ctx.require_temporal(), payment, ctx.settings.temporal_task_queue)
    if link is not None:
        checkout.pay_url, checkout.status = link.pay_url, link.status
    else:
        async with ctx.sessions() as session:
            fresh = await session.get(Payment, payment.id)
        assert fresh is not None
        checkout.pay_url, checkout.status = fresh.confirmation_url, fresh.status
    return checkout


async def _payment(ctx: AppContext, payment_id: str) -> Payment | None:
    async with ctx.sessions() as session:
        return await session.get(Payment, payment_id[:40])


async def record_stars_charge(ctx: AppContext, charge: StarsCharge) -> None:
    """Durable once it returns: the bot acknowledges the update only after this."""
    await hints.record_stars_charge(
        ctx.require_temporal(), ctx.settings.temporal_task_queue, ctx.sessions, charge
    )


async def record_stars_refund(ctx: AppContext, charge: StarsCharge) -> None:
    payment = await _payment(ctx, charge.payload)
    if payment is None or payment.method is not PaymentMethod.STARS:
        log.warning("stars refund %s for unknown payment %r: ignored", charge.charge_id, charge.payload)
        return
    if payment.provider_payment_id != charge.charge_id:
        # Not the charge that bought the access (a second payment we gave back): nothing to revoke.
        log.info("stars refund %s of payment %s: not its charge, access kept", charge.charge_id, payment.id)
        return
    inp = RefundInput(
        payment_id=payment.id,
        refund_key=stars_refund_key(charge.charge_id),
        amount=Decimal(charge.total_amount),
    )
    await hints.start_refund(ctx.require_temporal(), ctx.settings.temporal_task_queue, inp)


async def stars_pre_checkout(
    ctx: AppContext, payload: str, currency: str, total_amount: int, user_id: int
) -> str | None:
    return await pre_checkout_problem(ctx.sessions, payload, currency, total_amount, user_id)
