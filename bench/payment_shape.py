"""The dev server's ceiling for a paid order's shape (issue 14): what the Temporal dev server and the
SDK carry on this machine when the shop's own work costs nothing.

`ShapeWorkflow` makes the server calls and records the history events of a compact VPN payment run
delivered on two hosts (tests/histories/payment_compact_delivered.json): started by the link's
update-with-start (a double click asks twice), the run's one patch marker and search-attribute
upsert, its local steps (load, create; after the hint: fetch, paid with the hosts to try, two
first tries at once, the card's composition recording "delivered"), one hint by signal-with-start (the API
merges a webhook's copies into one), and the card as one activity on a queue paced at the bot's
rate. Every step returns at once. The load generator's process is its worker, as the shop's process
is the payment's: a burst of N at once gives the shape's payments/s, its card p95 and the CPU the
server and the worker spent per payment.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

from temporalio import activity, workflow
from temporalio.client import Client, WithStartWorkflowOperation, WorkflowHandle
from temporalio.common import RetryPolicy
from temporalio.worker import Worker

from bench.payments_stack import cpu_seconds, machine_busy_seconds
from shop.models import PaymentMethod, PaymentStatus
from shop.payments.hints import FoundPayment, start_options

with workflow.unsafe.imports_passed_through():
    from shop import search_attributes

STEP = timedelta(seconds=30)
RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30))
# A compact run's one patch: a marker and a search-attribute upsert.
COMPACT = "shape-compact"


@activity.defn
async def shape_step(value: str) -> str:
    """Every step, the card's send included: it does nothing."""
    return value


@workflow.defn(sandboxed=False)
class ShapeWorkflow:
    def __init__(self) -> None:
        self.link: str | None = None
        self.hinted = False

    @workflow.signal
    def check_provider(self) -> None:
        self.hinted = True

    @workflow.update
    async def payment_link(self) -> str:
        await workflow.wait_condition(lambda: self.link is not None)
        assert self.link is not None
        return self.link

    async def _local(self, what: str) -> str:
        result: str = await workflow.execute_local_activity(
            shape_step, what, start_to_close_timeout=STEP, retry_policy=RETRY
        )
        return result

    def _status(self, status: str) -> None:
        workflow.upsert_search_attributes([search_attributes.STATUS.value_set(status)])

    @workflow.run
    async def run(self, paced_queue: str) -> str:
        workflow.patched(COMPACT)
        await self._local("load_order")
        self.link = await self._local("create_provider_payment")
        self._status("pending")
        try:  # the first poll's timer, cancelled by the hint
            await workflow.wait_condition(lambda: self.hinted, timeout=timedelta(seconds=600))
        except TimeoutError:
            return "expired"
        await self._local("fetch_provider_payment")
        await self._local("record_paid")  # and the hosts to try
        self._status("succeeded")
        await asyncio.gather(self._local("upsert_client"), self._local("upsert_client"))
        card = await self._local("compose_notices")  # and "delivered"
        self._status("delivered")
        sent: str = await workflow.execute_activity(
            shape_step, card, task_queue=paced_queue, start_to_close_timeout=STEP, retry_policy=RETRY
        )
        return sent


@dataclass(frozen=True)
class ShapeFigures:
    payments_per_s: float
    card_p95_s: float
    temporal_cpu_ms: float  # per payment
    worker_cpu_ms: float  # this process: the worker and the client calls, per payment
    machine_cpu_ms: float  # every process, per payment


def _started(queue: str, key: str) -> dict[str, Any]:
    """How the shop starts payment `key`'s run (`start_options`: its id and policies, and the search
    attributes the run then does not upsert again), for a YooKassa order of a 299 RUB plan."""
    row = FoundPayment(
        id=key,
        user_id=1,
        plan_id=1,
        method=PaymentMethod.YOOKASSA,
        amount=Decimal("299.00"),
        currency="RUB",
        status=PaymentStatus.CREATED,
        provider_payment_id=None,
    )
    return start_options(row, queue)


async def click(client: Client, queue: str, paced: str, key: str) -> str:
    """The checkout's "Pay" for payment `key`: the link, by update-with-start."""
    start = WithStartWorkflowOperation(ShapeWorkflow.run, paced, **_started(queue, key))
    return await client.execute_update_with_start_workflow(
        ShapeWorkflow.payment_link, start_workflow_operation=start
    )


async def hint(client: Client, queue: str, paced: str, key: str) -> WorkflowHandle[Any, str]:
    """A webhook's hint for payment `key`, by signal-with-start (its copies share one)."""
    return await client.start_workflow(
        ShapeWorkflow.run, paced, start_signal="check_provider", **_started(queue, key)
    )


@asynccontextmanager
async def workers(client: Client, queue: str, paced: str, pace: float) -> AsyncIterator[None]:
    """The payment's worker and the bot's paced queue's, at `pace` activities a second."""
    async with (
        Worker(client, task_queue=queue, workflows=[ShapeWorkflow], activities=[shape_step]),
        Worker(client, task_queue=paced, activities=[shape_step], max_task_queue_activities_per_second=pace),
    ):
        yield


async def shape_burst(client: Client, temporal_pid: int, total: int, pace: float) -> ShapeFigures:
    """`total` shape payments, each linked twice at once, then all hinted at once; a card is its
    run's end (the paced send done)."""
    queue = f"shape-{time.time_ns()}"
    paced = f"{queue}-telegram"
    async with workers(client, queue, paced, pace):
        limit = asyncio.Semaphore(40)  # clicks and webhooks in flight, as the payments bench allows

        async def clicked(index: int) -> None:
            async with limit:
                await click(client, queue, paced, f"{queue}-{index}")

        await asyncio.gather(*(clicked(i) for i in range(total) for _ in range(2)))
        await asyncio.sleep(2)
        before = time.process_time(), cpu_seconds(temporal_pid), machine_busy_seconds()
        hinted = time.perf_counter()
        cards: list[float] = []

        async def card(index: int) -> None:
            async with limit:
                handle = await hint(client, queue, paced, f"{queue}-{index}")
            await handle.result()
            cards.append(time.perf_counter() - hinted)

        await asyncio.gather(*(card(i) for i in range(total)))
        elapsed = time.perf_counter() - hinted
        after = time.process_time(), cpu_seconds(temporal_pid), machine_busy_seconds()
    worker, temporal, machine = (round(1000 * (b - a) / total, 1) for a, b in zip(before, after, strict=True))
    return ShapeFigures(
        payments_per_s=round(total / elapsed, 2),
        card_p95_s=round(statistics.quantiles(cards, n=20)[-1], 2),
        temporal_cpu_ms=temporal,
        worker_cpu_ms=worker,
        machine_cpu_ms=machine,
    )
