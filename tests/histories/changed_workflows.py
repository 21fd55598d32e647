"""Workflows changed the way the replay guard exists to catch, for tests/test_replay.py.

They live in a module of their own because the sandbox re-imports a workflow's module (a test
module, with pytest in it, cannot be), and `@workflow.defn` classes cannot be local. Each takes the
name of the workflow it changes, so a saved history of that type replays on it.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

from workflows.grant import GrantAccessInput, GrantAccessResult, GrantAccessWorkflow
from workflows.sweeper import PaymentSweepWorkflow

with workflow.unsafe.imports_passed_through():
    from activities.payments import NotifyInput, PaymentActivities, PaymentEvent
    from activities.sweeper import SweepActivities, SweepInput, SweepReport


@workflow.defn(name="GrantAccessWorkflow")
class GrantPausingFirst(GrantAccessWorkflow):
    """A timer added before the ledger write."""

    @workflow.run
    async def run(self, inp: GrantAccessInput) -> GrantAccessResult:
        await workflow.sleep(timedelta(seconds=1))
        return await super().run(inp)


@workflow.defn(name="GrantAccessWorkflow")
class GrantPausingFirstWhenPatched(GrantAccessWorkflow):
    """The same edit done right: runs that started before it keep their old path."""

    @workflow.run
    async def run(self, inp: GrantAccessInput) -> GrantAccessResult:
        if workflow.patched("grant-pause-first"):
            await workflow.sleep(timedelta(seconds=1))
        return await super().run(inp)


@workflow.defn(name="PaymentSweepWorkflow")
class SweepWithoutTheLateReview(PaymentSweepWorkflow):
    """Late payments no longer set to review: the notify activity comes where set_status was."""

    @workflow.run
    async def run(self, inp: SweepInput) -> SweepReport:
        report = await workflow.execute_activity_method(
            SweepActivities.sweep_payments, inp, start_to_close_timeout=timedelta(minutes=3)
        )
        for payment_id in report.late:
            await workflow.execute_activity_method(
                PaymentActivities.notify,
                NotifyInput(payment_id=payment_id, event=PaymentEvent.REVIEW),
                start_to_close_timeout=timedelta(seconds=30),
            )
        return report
