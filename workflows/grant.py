"""GrantAccessWorkflow: a grant that is not a payment (trial, admin gift, referral bonus),
then provisioning of the new expiry on every enabled host."""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel
from temporalio import workflow
from temporalio.common import RetryPolicy

from workflows.provision import (
    ProvisionInput,
    ProvisionResult,
    ProvisionSubscriptionWorkflow,
    provision_workflow_id,
)

with workflow.unsafe.imports_passed_through():
    from activities.ledger import ApplyGrantInput, ApplyGrantResult, LedgerActivities
    from shop.models import GrantKind


class GrantAccessInput(BaseModel):
    subscription_id: int
    source_key: str
    seconds: int
    kind: GrantKind
    actor: str


class GrantAccessResult(ApplyGrantResult):
    provisioning: ProvisionResult


def grant_workflow_id(source_key: str) -> str:
    return f"grant:{source_key}"


@workflow.defn
class GrantAccessWorkflow:
    @workflow.run
    async def run(self, inp: GrantAccessInput) -> GrantAccessResult:
        granted = await workflow.execute_activity_method(
            LedgerActivities.apply_grant,
            ApplyGrantInput(**inp.model_dump()),
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=RetryPolicy(maximum_interval=timedelta(seconds=30)),
        )
        # Provisioning reads the ledger itself, so it also runs when this grant was already applied.
        provisioning = await workflow.execute_child_workflow(
            ProvisionSubscriptionWorkflow.run,
            ProvisionInput(subscription_id=inp.subscription_id),
            id=provision_workflow_id(inp.subscription_id, f"grant:{inp.source_key}"),
        )
        return GrantAccessResult(**granted.model_dump(), provisioning=provisioning)
