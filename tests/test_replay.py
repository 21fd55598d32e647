"""Every saved workflow history (tests/histories, recorded by `python -m tests.histories.record`)
replays on today's workflow code with the worker's own converter and sandbox; no server needed.
A deliberately changed workflow fails on the same history, so the guard cannot pass vacuously,
and the same change behind `workflow.patched()` replays clean."""

from __future__ import annotations

import json

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer
from temporalio.workflow import NondeterminismError

from tests.histories.changed_workflows import (
    GrantPausingFirst,
    GrantPausingFirstWhenPatched,
    SweepWithoutTheLateReview,
)
from tests.histories.record import declared_histories
from tests.histories.recorder import HERE, MANIFEST
from worker.main import WORKFLOWS, workflow_runner

SAVED: dict[str, str] = json.loads(MANIFEST.read_text())  # history name -> workflow ID


def replayer(workflows: list[type]) -> Replayer:
    """Configured as `worker.main.build_worker` configures the worker."""
    return Replayer(
        workflows=workflows,
        data_converter=pydantic_data_converter,
        workflow_runner=workflow_runner(),
    )


def saved_history(name: str) -> WorkflowHistory:
    return WorkflowHistory.from_json(SAVED[name], (HERE / f"{name}.json").read_text())


def workflow_type(history: WorkflowHistory) -> str:
    return history.events[0].workflow_execution_started_event_attributes.workflow_type.name


@pytest.mark.parametrize("name", sorted(SAVED))
async def test_saved_history_replays_on_current_code(name: str) -> None:
    result = await replayer(WORKFLOWS).replay_workflow(saved_history(name), raise_on_replay_failure=False)
    assert result.replay_failure is None, f"{name}: {result.replay_failure}"


def test_every_registered_workflow_type_has_a_saved_history() -> None:
    registered = {cls.__name__ for cls in WORKFLOWS}  # none of ours renames its type
    recorded = {workflow_type(saved_history(name)) for name in SAVED}
    assert registered - recorded == set(), "record a history for each new workflow type"
    assert recorded <= registered


def test_the_saved_files_are_the_ones_the_recorder_makes() -> None:
    files = {path.stem for path in HERE.glob("*.json")} - {MANIFEST.stem}
    assert files == set(SAVED) == declared_histories()


@pytest.mark.parametrize(
    ("changed", "name"),
    [
        (GrantPausingFirst, "grant_trial_provisioned"),
        (SweepWithoutTheLateReview, "sweep_lost_webhooks_and_late"),
    ],
)
async def test_a_changed_workflow_fails_to_replay_its_saved_history(changed: type, name: str) -> None:
    with pytest.raises(NondeterminismError):
        await replayer([changed]).replay_workflow(saved_history(name))


async def test_the_same_change_behind_patched_replays_clean() -> None:
    result = await replayer([GrantPausingFirstWhenPatched]).replay_workflow(
        saved_history("grant_trial_provisioned"), raise_on_replay_failure=False
    )
    assert result.replay_failure is None
