"""The payments bench's "payment shape" (bench/payment_shape.py) stands for the dev server's ceiling
only while it records what a paid order records: its history, run once here (a click, a hint),
has the events of a compact payment run delivered on two hosts, as many of each type as the saved
history of one (tests/histories/payment_compact_delivered.json, recorded from the real run)."""

from __future__ import annotations

import uuid
from collections import Counter

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHistory

from bench.payment_shape import click, hint, workers
from tests.histories.recorder import HERE

SAVED = "payment_compact_delivered"


def _types(history: WorkflowHistory) -> list[str]:
    return [EventType.Name(event.event_type) for event in history.events]


async def test_the_shape_records_the_events_a_paid_order_records(temporal_client: Client) -> None:
    queue = f"shape-{uuid.uuid4().hex[:8]}"
    paced = f"{queue}-telegram"
    shape_id = f"{queue}-1"
    async with workers(temporal_client, queue, paced, pace=28):
        assert await click(temporal_client, queue, paced, shape_id) == "create_provider_payment"
        handle = await hint(temporal_client, queue, paced, shape_id)
        await handle.result()
        shape = await handle.fetch_history()
    saved = WorkflowHistory.from_json(shape_id, (HERE / f"{SAVED}.json").read_text())
    # The same events, each type as often; not always in the same order: the second host's first
    # try may end before or after the card's steps, as in the real run.
    assert Counter(_types(shape)) == Counter(_types(saved))
    assert _types(shape)[:19] == _types(saved)[:19]  # up to the hosts' tries, one order
