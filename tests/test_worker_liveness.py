"""worker.liveness: activities scheduled with a heartbeat timeout stay alive while they run longer
than it, and the details they report themselves reach the next attempt."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.common import RetryPolicy
from temporalio.worker import Worker

from worker.liveness import Liveness


@dataclass
class Step:
    seconds: float
    fail_first: bool


@dataclass
class StepResult:
    attempt: int
    details: list[str]


@activity.defn
async def slow_step(step: Step) -> StepResult:
    info = activity.info()
    if info.attempt == 1:
        activity.heartbeat("halfway")
        await asyncio.sleep(step.seconds)
        if step.fail_first:
            raise RuntimeError("fail once, after the beats, so the next attempt shows the details")
    return StepResult(info.attempt, [str(detail) for detail in info.heartbeat_details])


@workflow.defn(sandboxed=False)
class SlowStepWorkflow:
    @workflow.run
    async def run(self, step: Step) -> StepResult:
        return await workflow.execute_activity(
            slow_step,
            step,
            start_to_close_timeout=timedelta(seconds=30),
            heartbeat_timeout=timedelta(seconds=1),
            retry_policy=RetryPolicy(initial_interval=timedelta(milliseconds=100), maximum_attempts=2),
        )


async def _run(client: Client, step: Step) -> StepResult:
    queue = f"liveness-{uuid.uuid4().hex[:8]}"
    async with Worker(
        client, task_queue=queue, workflows=[SlowStepWorkflow], activities=[slow_step],
        interceptors=[Liveness()],
    ):  # fmt: skip
        return await client.execute_workflow(
            SlowStepWorkflow.run, step, id=f"slow-step-{queue}", task_queue=queue
        )


async def test_an_activity_longer_than_its_heartbeat_timeout_is_kept_alive(temporal_client: Client) -> None:
    # 2.5 s of work under a 1 s heartbeat timeout: the first attempt finishes only if beats went out.
    assert (await _run(temporal_client, Step(2.5, fail_first=False))).attempt == 1


async def test_beats_repeat_the_activitys_own_details(temporal_client: Client) -> None:
    result = await _run(temporal_client, Step(2.5, fail_first=True))
    assert result == StepResult(attempt=2, details=["halfway"])
