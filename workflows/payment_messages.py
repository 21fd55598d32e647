"""What callers send to a payment's workflow and read from it, and its id and search attributes:
shared by the workflow, the checkout, the webhook hints and the bot."""

from __future__ import annotations

from pydantic import BaseModel
from temporalio import workflow
from temporalio.common import SearchAttributePair, TypedSearchAttributes

with workflow.unsafe.imports_passed_through():
    from shop import search_attributes
    from shop.models import PaymentMethod, PaymentStatus


class PaymentInput(BaseModel):
    payment_id: str


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


def payment_search_attributes(
    user_id: int, method: PaymentMethod, status: PaymentStatus
) -> TypedSearchAttributes:
    return TypedSearchAttributes(
        [
            SearchAttributePair(search_attributes.USER_ID, user_id),
            SearchAttributePair(search_attributes.PROVIDER, method.value),
            SearchAttributePair(search_attributes.STATUS, status.value),
        ]
    )
