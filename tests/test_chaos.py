"""Chaos over the scaled topology, about two minutes (select it with `-m chaos`, leave it out with
`-m "not chaos"`): roles SIGKILLed, PostgreSQL and Temporal restarted, a panel down, YooKassa
answering 500, under a steady load; then every invariant of tests/chaos.py must hold."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from tests.chaos import Chaos, client_context, invariants, settled
from tests.polling import eventually
from tests.topology import shop_client, topology

pytestmark = [pytest.mark.chaos, pytest.mark.timeout(2400)]

LOAD_SECONDS = 100


async def test_chaos_loses_nothing_doubles_nothing(tmp_path: Path) -> None:
    seed = int(os.environ.get("CHAOS_SEED") or random.randrange(1_000_000))
    print(f"chaos seed {seed} (CHAOS_SEED={seed} repeats it); logs in {tmp_path}")
    async with topology(tmp_path, EXPIRY_SCAN_MINUTES="1") as topo:
        client = await shop_client(topo)
        ctx = client_context(topo, client)
        try:
            chaos = Chaos(topo, ctx, seed)
            await chaos.setup()
            await chaos.run(LOAD_SECONDS)
            # Generous: after the last fault the shop catches up (retries back off up to a minute).
            await eventually(lambda: settled(ctx, chaos), seconds=300, every=2)
            verdict = await invariants(chaos, client)
        finally:
            await ctx.close()
    print(verdict.figures)
    assert chaos.record.paid, "the load paid nothing"
    assert not verdict.problems, "\n".join(verdict.problems[:50])
