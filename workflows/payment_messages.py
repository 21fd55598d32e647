"""What callers send to a payment's workflow and read from it, and its id and search attributes:
shared by the workflow, the checkout, the webhook hints and the bot."""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol

from pydantic import BaseModel
from temporalio import workflow
from temporalio.common import SearchAttributePair, TypedSearchAttributes

with workflow.unsafe.imports_passed_through():
    from shop import search_attributes
    from shop.models import PaymentMethod, PaymentStatus


class PaymentInput(BaseModel):
    """The run needs only the id (it loads the order itself); the rest is for whoever reads the
    run's input in the Temporal UI. Runs started before carry the id alone."""

    payment_id: str
    user_id: int | None = None
    plan_id: int | None = None
    method: PaymentMethod | None = None
    amount: Decimal | None = None
    currency: str | None = None


class ProviderHint(BaseModel):
    source: str  # "webhook", "sweeper": only for the history; the provider's answer decides


class TransferDecision(BaseModel):
    approve: bool
    operator_id: int


class PaymentLink(BaseModel):
    status: PaymentStatus
    pay_url: str | None


class PaymentProgress(BaseModel):
    stage: str
    status: PaymentStatus | None
    pay_url: str | None
    detail: str = ""


def workflow_id(payment_id: str) -> str:
    return f"payment:{payment_id}"


def stars_refund_key(charge_id: str) -> str:
    return f"stars-refund:{charge_id}"


class PaymentRow(Protocol):
    """What the start needs of a payments row (`shop.models.Payment`)."""

    id: str
    user_id: int
    plan_id: int | None  # None: a balance top-up
    method: PaymentMethod
    amount: Decimal
    currency: str
    status: PaymentStatus


def payment_input(payment: PaymentRow) -> PaymentInput:
    return PaymentInput(
        payment_id=payment.id,
        user_id=payment.user_id,
        plan_id=payment.plan_id,
        method=payment.method,
        amount=payment.amount,
        currency=payment.currency,
    )


def payment_search_attributes(
    user_id: int, method: PaymentMethod, status: PaymentStatus
) -> TypedSearchAttributes:
    """What the run itself keeps up to date (its status moves)."""
    return TypedSearchAttributes(
        [
            SearchAttributePair(search_attributes.USER_ID, user_id),
            SearchAttributePair(search_attributes.PROVIDER, method.value),
            SearchAttributePair(search_attributes.STATUS, status.value),
        ]
    )


def start_search_attributes(payment: PaymentRow) -> TypedSearchAttributes:
    """At the start, also the amount and the plan, so the Temporal UI finds a payment by them."""
    return TypedSearchAttributes(
        [
            *payment_search_attributes(payment.user_id, payment.method, payment.status),
            SearchAttributePair(search_attributes.AMOUNT, float(payment.amount)),
            *(
                [SearchAttributePair(search_attributes.PLAN_ID, payment.plan_id)]
                if payment.plan_id is not None
                else []
            ),
        ]
    )
