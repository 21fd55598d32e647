"""What the workflow sandbox costs a payment: CPU per replay of a saved payment history and its
provisioning child, with one replayer (one sandbox runner) replaying them many times, the way a
worker runs new workflows. No server; CPU time of this process.

    .venv/bin/python -m bench.sandbox_bench [--runs 40]

Compares the passthrough list before issue 14 (shop, activities, bot and the libraries), the
worker's list now (plus the workflows' message modules, whose pydantic models were otherwise
built again in every run's sandbox), and the same with the workflow modules' bytecode written
once (what `worker.main.compile_workflow_modules` does where PYTHONDONTWRITEBYTECODE is set);
with everything passed through (no isolation, the run-time checks still on), and with no sandbox
at all: how the shop runs workflows since WORKFLOW_SANDBOX (the tests keep the sandbox on).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer, UnsandboxedWorkflowRunner, WorkflowRunner
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

import workflows
from bench.payments_stack import load_average
from tests.test_replay import saved_history
from worker.main import PASSTHROUGH, WORKFLOWS, compile_workflow_modules

HISTORIES = ("payment_referral_lean_delivered", "provision_access_first_reported")
BEFORE = ("shop", "activities", "bot", "pydantic", "sqlalchemy", "aiogram")


def sandboxed(*passthrough: str) -> WorkflowRunner:
    return SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules(*passthrough)
    )


async def cpu_ms_per_run(runner: WorkflowRunner, runs: int) -> float:
    replayer = Replayer(workflows=WORKFLOWS, data_converter=pydantic_data_converter, workflow_runner=runner)
    histories = [saved_history(name) for name in HISTORIES]

    async def repeated(times: int) -> AsyncIterator[WorkflowHistory]:
        for _ in range(times):
            for history in histories:
                yield history

    async with replayer.workflow_replay_iterator(repeated(2)) as warm:
        async for _ in warm:
            pass
    started = time.process_time()
    async with replayer.workflow_replay_iterator(repeated(runs)) as timed:
        async for result in timed:
            assert result.replay_failure is None, result.replay_failure
    return (time.process_time() - started) / runs * 1000


async def main(runs: int) -> None:
    bytecode = Path(workflows.__file__).parent / "__pycache__"
    shutil.rmtree(bytecode, ignore_errors=True)
    sys.dont_write_bytecode = True
    before = await cpu_ms_per_run(sandboxed(*BEFORE), runs)
    now = await cpu_ms_per_run(sandboxed(*PASSTHROUGH), runs)
    compile_workflow_modules()
    compiled = await cpu_ms_per_run(sandboxed(*PASSTHROUGH), runs)
    floor = await cpu_ms_per_run(sandboxed(*PASSTHROUGH, "workflows"), runs)
    none = await cpu_ms_per_run(UnsandboxedWorkflowRunner(), runs)
    print(f"CPU per payment + provisioning run, replayed {runs} times (load {load_average()}):")
    print(f"  passthrough before issue 14, no bytecode: {before:6.1f} ms")
    print(f"  message modules passed through:           {now:6.1f} ms ({now / before:.2f}x)")
    print(f"  ... and workflow bytecode written once:   {compiled:6.1f} ms ({compiled / before:.2f}x)")
    print(f"  everything passed through (no isolation): {floor:6.1f} ms ({floor / before:.2f}x)")
    print(f"  no sandbox (the shop since WORKFLOW_SANDBOX): {none:4.1f} ms ({none / before:.2f}x)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40)
    asyncio.run(main(parser.parse_args().runs))
