"""Chaos over the scaled topology, about two minutes (select it with `-m chaos`, leave it out with
`-m "not chaos"`): roles SIGKILLed, PostgreSQL and Temporal restarted, a panel down, YooKassa
answering 500, under a steady load; then every invariant of tests/chaos.py must hold."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from tests.chaos import chaos_on, invariants, settled
from tests.polling import eventually
from tests.topology import can_run_private_postgres

pytestmark = [pytest.mark.chaos, pytest.mark.timeout(2400), pytest.mark.xdist_group("load")]

LOAD_SECONDS = 100


async def test_chaos_loses_nothing_doubles_nothing(tmp_path: Path) -> None:
    if not can_run_private_postgres():
        pytest.skip(
            "needs PostgreSQL's initdb/pg_ctl (/usr/lib/postgresql/*/bin), and as root a postgres user"
        )
    seed = int(os.environ.get("CHAOS_SEED") or random.randrange(1_000_000))
    print(f"chaos seed {seed} (CHAOS_SEED={seed} repeats it); logs in {tmp_path}")
    async with chaos_on(tmp_path, seed) as (chaos, client):
        await chaos.run(LOAD_SECONDS)
        # Generous: after the last fault the shop catches up (retries back off up to a minute).
        await eventually(lambda: settled(chaos.ctx, chaos), seconds=300, every=2)
        verdict = await invariants(chaos, client)
    print(verdict.figures)
    assert chaos.record.paid, "the load paid nothing"
    assert not verdict.problems, "\n".join(verdict.problems[:50])
