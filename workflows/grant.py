"""GrantAccessWorkflow: a grant that is not a payment (trial, admin gift, referral bonus)."""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel
from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.ledger import ApplyGrantInput, ApplyGrantResult, LedgerActivities
    from shop.models import GrantKind


class GrantAccessInput(BaseModel):
    subscription_id: int
    source_key: str
    seconds: int
    kind: GrantKind
    actor: str


def grant_workflow_id(source_key: str) -> str:
    return f"grant:{source_key}"


@workflow.defn
class GrantAccessWorkflow:
    @workflow.run
    async def run(self, inp: GrantAccessInput) -> ApplyGrantResult:
        return await workflow.execute_activity_method(
            LedgerActivities.apply_grant,
            ApplyGrantInput(**inp.model_dump()),
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=RetryPolicy(maximum_interval=timedelta(seconds=30)),
        )
