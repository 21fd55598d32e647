"""Chaos over the scaled topology (tests/topology.py): a steady load while roles are SIGKILLed and
servers restarted, then the invariants. tests/test_chaos.py runs it for about two minutes,
bench/soak.py for as long as asked.

Load: payments (each clicked twice, YooKassa's webhook delivered three times), `/sub` fetched from
both APIs every 1.5 s, reminders due (the expiry-scan Schedule runs every minute), one
broadcast. Faults, at seeded random moments: SIGKILL a worker, an API and the bot (each started
again a few seconds later), PostgreSQL stopped and started, the Temporal server restarted on its
SQLite file, a panel down for 30 s, YooKassa answering 500 for a while.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowExecutionStatus

from shop.access import ledger
from shop.access.hosts import HostService, parse_input
from shop.context import AppContext
from shop.crypto import Sealer
from shop.customers.accounts import ensure_subscription, register_user
from shop.messaging import broadcasts
from shop.messaging.broadcast_control import BroadcastControl
from shop.models import (
    Broadcast,
    BroadcastDelivery,
    BroadcastStatus,
    DeliveryStatus,
    Grant,
    GrantKind,
    PanelClient,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Reminder,
    ReminderStatus,
    Subscription,
    utcnow,
)
from shop.payments.plans import ensure_plan
from shop.payments.service import new_payment_id, start_checkout
from shop.settings import load_settings
from tests.topology import ADMIN, KEY, NAMESPACE, Sandboxes, Topology, shop_client, topology

PAYERS_FROM = 10_000
REMINDED_FROM = 20_000
AUDIENCE_FROM = 30_000
BROADCAST_TEXT = "chaos broadcast"
RESTART_AFTER = 3.0  # seconds a killed role stays down
PANEL_DOWN = 30.0
PROVIDER_DOWN = 20.0
SUB_EVERY = 1.5  # seconds between two rounds of /sub fetches (one to each API)
# Transient errors the load's own client meets while PostgreSQL or Temporal restarts: it retries
# as a customer would click again (same payment id).
RETRY_EVERY = 1.0


@dataclass
class Record:
    seed: int
    faults: list[tuple[float, str]] = field(default_factory=list)  # (monotonic time, what)
    postgres_down: list[tuple[float, float]] = field(default_factory=list)  # (stopped, started)
    sub_rounds: list[tuple[float, bool]] = field(default_factory=list)  # (started, any API answered)
    paid: list[str] = field(default_factory=list)  # payment ids paid at YooKassa
    payers: dict[str, int] = field(default_factory=dict)  # payment id -> user
    errors: list[str] = field(default_factory=list)  # the load's own client, for the report


async def add_user(ctx: AppContext, sandboxes: Sandboxes, user_id: int) -> Subscription:
    await sandboxes.call("telegram", "add_user", user_id, f"User{user_id}", language_code="en")
    await register_user(ctx.sessions, user_id, None, f"User{user_id}", language="en")
    return await ensure_subscription(ctx.sessions, user_id)


async def stock_shop(ctx: AppContext, sandboxes: Sandboxes, api_url: str) -> int:
    """The sandbox panels as hosts, a plan (its id returned), the operator, YooKassa's webhooks to
    `api_url` in three copies each."""
    hosts = HostService(ctx.sessions, Sealer.from_settings(ctx.settings))
    for index, panel in enumerate(sandboxes.info["panels"]):
        login = {"username": panel["username"], "password": panel["password"]}
        place = {"name": f"host{index}", "panel_url": panel["url"], "inbound_id": panel["inbound_id"]}
        await hosts.add(parse_input(login | place | {"flag": "🧪"}))
    plan = await ensure_plan(ctx.sessions, "Month", 30, Decimal("299.00"), "RUB")
    await add_user(ctx, sandboxes, ADMIN)
    await sandboxes.set("yookassa", "webhooks.url", f"{api_url}/webhooks/yookassa")
    await sandboxes.set("yookassa", "webhooks.copies", 3)
    return plan.id


async def pay(ctx: AppContext, sandboxes: Sandboxes, record: Record, user_id: int, plan_id: int) -> None:
    """One customer's order: a double click at checkout, then paid at YooKassa (whose webhook
    copies reach the shop); every step retried as a customer would while the shop restarts."""
    await retried(lambda: add_user(ctx, sandboxes, user_id), record)
    payment_id = new_payment_id()
    record.payers[payment_id] = user_id

    async def click() -> None:
        await start_checkout(ctx, user_id, plan_id, PaymentMethod.YOOKASSA, payment_id)

    await asyncio.gather(retried(click, record), retried(click, record))

    async def provider_id() -> str:
        found = await sandboxes.call("yookassa", "by_order", payment_id)
        return str(found["id"])

    paid_id = await retried(provider_id, record)
    await sandboxes.call("yookassa", "pay", paid_id)
    record.paid.append(payment_id)


async def retried(what: Callable[[], Awaitable[Any]], record: Record, seconds: float = 300) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        try:
            return await what()
        except Exception as error:  # the client's side of a restart: try again, as a customer would
            record.errors.append(f"{type(error).__name__}: {str(error)[:120]}")
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(RETRY_EVERY)


def client_context(topo: Topology, client: Client) -> AppContext:
    """The test's own view of the shop: the same database and Temporal as the processes."""
    env = topo.env
    settings = load_settings(
        _env_file=None,
        database_url=env["DATABASE_URL"],
        temporal_address=env["TEMPORAL_ADDRESS"],
        temporal_namespace=NAMESPACE,
        encryption_key=KEY,
        telegram_bot_token=env["TELEGRAM_BOT_TOKEN"],
        telegram_api_url=env["TELEGRAM_API_URL"],
        public_base_url=env["PUBLIC_BASE_URL"],
        admin_ids=[ADMIN],
        yookassa_shop_id=env["YOOKASSA_SHOP_ID"],
        yookassa_secret_key=env["YOOKASSA_SECRET_KEY"],
        yookassa_api_url=env["YOOKASSA_API_URL"],
        yookassa_receipt_email=env["YOOKASSA_RECEIPT_EMAIL"],
        yookassa_test_mode=True,
    )
    return AppContext.open(settings, client)


class Chaos:
    def __init__(self, topo: Topology, ctx: AppContext, seed: int) -> None:
        self.topo = topo
        self.ctx = ctx
        self.sandboxes = topo.sandboxes
        self.random = random.Random(seed)
        self.record = Record(seed)
        self.plan_id = 0
        self.token = ""
        self.reminded: list[int] = []
        self.audience: list[int] = []
        self.broadcast_id = ""
        self.stopping = asyncio.Event()
        self.next_payer = PAYERS_FROM

    # --- setup ---------------------------------------------------------------------------
    async def _user(self, user_id: int) -> Subscription:
        return await add_user(self.ctx, self.sandboxes, user_id)

    async def setup(self, reminded: int = 8, audience: int = 60) -> None:
        self.plan_id = await stock_shop(self.ctx, self.sandboxes, self.topo.api_url(0))
        # /sub of a customer with a paid month (no panel needed: /sub serves the database's links).
        probe = await self._user(REMINDED_FROM - 1)
        await ledger.grant(
            self.ctx.sessions, probe.id, "chaos:probe", timedelta(days=30), GrantKind.PURCHASE, "t"
        )
        self.token = probe.token
        # Reminders: paid subscriptions ending in 20 hours, the -24h mark due at the next scan.
        for user_id in range(REMINDED_FROM, REMINDED_FROM + reminded):
            sub = await self._user(user_id)
            start = utcnow() + timedelta(hours=20) - timedelta(days=30)
            await ledger.grant(
                self.ctx.sessions,
                sub.id,
                f"chaos:{user_id}",
                timedelta(days=30),
                GrantKind.PURCHASE,
                "t",
                start,
            )
            self.reminded.append(user_id)
        self.audience = list(range(AUDIENCE_FROM, AUDIENCE_FROM + audience))
        for user_id in self.audience:
            await self._user(user_id)

    # --- load ----------------------------------------------------------------------------
    async def pay_one(self) -> None:
        user_id = self.next_payer
        self.next_payer += 1
        await pay(self.ctx, self.sandboxes, self.record, user_id, self.plan_id)

    async def payments(self, every: float) -> None:
        while not self.stopping.is_set():
            await self.pay_one()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), every)

    async def sub_fetches(self) -> None:
        urls = [f"{self.topo.api_url(i)}/sub/{self.token}" for i in range(len(self.topo.apis))]
        async with httpx.AsyncClient(timeout=10) as http:

            async def one(url: str) -> bool:
                try:
                    return (await http.get(url, headers={"User-Agent": "v2rayNG/1.8.5"})).status_code == 200
                except httpx.HTTPError:
                    return False

            while not self.stopping.is_set():
                started = time.monotonic()
                answers = await asyncio.gather(*(one(url) for url in urls))
                self.record.sub_rounds.append((started, any(answers)))
                # Under the APIs' per-client limit (SUB_RATE_LIMIT_PER_MINUTE, 60), so a 429
                # never stands for an outage.
                await asyncio.sleep(SUB_EVERY)

    async def start_broadcast(self) -> None:
        await self.sandboxes.call("telegram", "send_text", ADMIN, BROADCAST_TEXT)
        # The operator's own message, which the broadcast copies (not among the bot's messages).
        chat = await self.sandboxes.call("telegram", "world.chats.__getitem__", ADMIN)
        source = next(m["message_id"] for m in reversed(chat) if m["text"] == BROADCAST_TEXT)

        async def start() -> None:
            if not self.broadcast_id:
                self.broadcast_id = await broadcasts.create_draft(
                    self.ctx.sessions, ADMIN, ADMIN, source, None, None
                )
            await BroadcastControl(self.ctx).start(ADMIN, self.broadcast_id)

        await retried(start, self.record)

    # --- faults --------------------------------------------------------------------------
    def _fault(self, what: str) -> None:
        self.record.faults.append((time.monotonic(), what))

    async def kill_and_restart(self, role_name: str) -> None:
        role = next(r for r in self.topo.roles if r.name == role_name)
        self._fault(f"SIGKILL {role_name}")
        await asyncio.to_thread(role.kill)
        await asyncio.sleep(RESTART_AFTER)
        role.start()

    async def restart_postgres(self) -> None:
        self._fault("PostgreSQL stop")
        stopped = time.monotonic()
        await asyncio.to_thread(self.topo.postgres.stop)
        await asyncio.sleep(RESTART_AFTER)
        await asyncio.to_thread(self.topo.postgres.start)
        self.record.postgres_down.append((stopped, time.monotonic()))
        self._fault("PostgreSQL started")

    async def restart_temporal(self) -> None:
        self._fault("Temporal restart")
        await asyncio.to_thread(self.topo.restart_temporal)

    async def panel_down(self) -> None:
        self._fault("panel0 down")
        await self.sandboxes.call("panel0", "down")
        await asyncio.sleep(PANEL_DOWN)
        await self.sandboxes.call("panel0", "up")
        self._fault("panel0 up")

    async def provider_errors(self) -> None:
        self._fault(f"YooKassa answers 500 for {PROVIDER_DOWN:.0f} s")
        await self.sandboxes.set("yookassa", "faults", [[500, False]] * 100_000)
        await asyncio.sleep(PROVIDER_DOWN)
        await self.sandboxes.set("yookassa", "faults", [])
        self._fault("YooKassa answers again")

    def faults(self) -> list[Callable[[], Awaitable[None]]]:
        worker = self.random.choice(self.topo.workers).name
        api = self.random.choice(self.topo.apis).name
        chosen: list[Callable[[], Awaitable[None]]] = [
            lambda: self.kill_and_restart(worker),
            lambda: self.kill_and_restart(api),
            lambda: self.kill_and_restart("bot"),
            self.restart_postgres,
            self.restart_temporal,
            self.panel_down,
            self.provider_errors,
        ]
        self.random.shuffle(chosen)
        return chosen

    async def run(self, seconds: float, pay_every: float = 4.0, rounds: int = 1) -> None:
        """The load for `seconds`; `rounds` times every fault, in a shuffled order, each at a
        random moment of its own slice of the run."""
        load = [
            asyncio.create_task(self.payments(pay_every)),
            asyncio.create_task(self.sub_fetches()),
        ]
        await asyncio.sleep(5)
        await self.start_broadcast()
        started = time.monotonic()
        faults = [fault for _ in range(rounds) for fault in self.faults()]
        slice_ = seconds / (len(faults) + 1)
        for index, fault in enumerate(faults):
            moment = started + slice_ * (index + self.random.uniform(0.3, 1.0))
            await asyncio.sleep(max(0.0, moment - time.monotonic()))
            await fault()
        await asyncio.sleep(max(0.0, started + seconds - time.monotonic()))
        self.stopping.set()
        await asyncio.gather(*load)


@contextlib.asynccontextmanager
async def chaos_on(root: Path, seed: int) -> AsyncIterator[tuple[Chaos, Client]]:
    """The topology started in `root`, the shop set up for the load (the expiry scan every minute)."""
    async with topology(root, EXPIRY_SCAN_MINUTES="1") as topo:
        client = await shop_client(topo)
        ctx = client_context(topo, client)
        try:
            chaos = Chaos(topo, ctx, seed)
            await chaos.setup()
            yield chaos, client
        finally:
            await ctx.close()


# --- invariants ----------------------------------------------------------------------------
def _tracebacks(log: str) -> list[str]:
    """Records at ERROR or above, and tracebacks not under a WARNING record (Temporal logs an
    activity attempt that failed, to be retried, as a WARNING with its traceback: handled)."""
    found = []
    level = ""
    for line in log.splitlines():
        record = re.match(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ (\w+) ", line)
        if record:
            level = record.group(1)
            if level in ("ERROR", "CRITICAL"):
                found.append(line[:300])
        elif line.startswith("Traceback") and level not in ("WARNING", "INFO", "DEBUG"):
            found.append(line)
        elif "Task exception was never retrieved" in line or "Unhandled" in line:
            found.append(line[:300])
    return found


async def delivered(ctx: AppContext, record: Record) -> bool:
    async with ctx.sessions() as session:
        done = await session.scalar(
            select(func.count())
            .select_from(Payment)
            .where(Payment.id.in_(record.paid), Payment.status == PaymentStatus.DELIVERED)
        )
    return done == len(record.paid)


async def settled(ctx: AppContext, chaos: Chaos) -> bool:
    """Every paid payment delivered, the broadcast finished, the reminders sent."""
    async with ctx.sessions() as session:
        finished = await session.scalar(select(Broadcast.status).where(Broadcast.id == chaos.broadcast_id))
        sent_reminders = await session.scalar(
            select(func.count()).select_from(Reminder).where(Reminder.status == ReminderStatus.SENT)
        )
    if not (
        await delivered(ctx, chaos.record)
        and finished is BroadcastStatus.FINISHED
        and sent_reminders == len(chaos.reminded)
    ):
        return False
    # Access goes out once one host works; a host that was down gets its clients in the background.
    for index in range(len(chaos.sandboxes.info["panels"])):
        if len(await chaos.sandboxes.call(f"panel{index}", "clients")) < len(chaos.record.paid):
            return False
    return True


async def _asleep(client: Client, execution_id: str, run_id: str) -> int | None:
    """The history's length when nothing will wake the run (no pending activity, child or timer);
    None when something will."""
    handle = client.get_workflow_handle(execution_id, run_id=run_id)
    described = await handle.describe()
    description = described.raw_description
    if described.status is not WorkflowExecutionStatus.RUNNING:
        return None
    if description.pending_activities or description.pending_children:
        return None
    timers, length = 0, 0
    async for event in handle.fetch_history_events():
        length += 1
        if event.event_type == EventType.EVENT_TYPE_TIMER_STARTED:
            timers += 1
        elif event.event_type in (EventType.EVENT_TYPE_TIMER_FIRED, EventType.EVENT_TYPE_TIMER_CANCELED):
            timers -= 1
    return None if timers > 0 else length


async def stuck_workflows(client: Client, recheck: float = 20) -> list[str]:
    """Open workflows with nothing to wake them: no pending activity, child or timer, and a history
    that did not grow in `recheck` seconds (a local activity in flight shows none of the three, but
    its workflow task heartbeats into the history)."""
    candidates = {}
    async for execution in client.list_workflows('ExecutionStatus="Running"'):
        length = await _asleep(client, execution.id, execution.run_id)
        if length is not None:
            candidates[(execution.id, execution.run_id)] = (execution.workflow_type, length)
    if candidates:
        await asyncio.sleep(recheck)
    stuck = []
    for (execution_id, run_id), (kind, length) in candidates.items():
        if await _asleep(client, execution_id, run_id) == length:
            stuck.append(f"{kind} {execution_id}")
    return stuck


@dataclass
class Verdict:
    problems: list[str]
    figures: dict[str, Any]


async def payment_problems(ctx: AppContext, sandboxes: Sandboxes, record: Record) -> list[str]:
    """Each paid payment delivered, granted once, its client once on every panel, one card."""
    problems: list[str] = []
    async with ctx.sessions() as session:
        grants = list(
            await session.execute(select(Grant.source_key, func.count()).group_by(Grant.source_key))
        )
        clients = list(
            await session.execute(
                select(PanelClient.subscription_id, PanelClient.host_id, func.count()).group_by(
                    PanelClient.subscription_id, PanelClient.host_id
                )
            )
        )
        statuses = dict(
            (
                await session.execute(select(Payment.id, Payment.status).where(Payment.id.in_(record.paid)))
            ).all()
        )
    per_source = dict(grants)
    for payment_id in record.paid:
        if statuses.get(payment_id) is not PaymentStatus.DELIVERED:
            problems.append(f"payment {payment_id} is {statuses.get(payment_id)}")
        if per_source.get(payment_id) != 1:
            problems.append(f"payment {payment_id} has {per_source.get(payment_id)} grants")
    problems += [f"subscription {s} has {n} clients on host {h}" for s, h, n in clients if n != 1]
    for index in range(len(sandboxes.info["panels"])):
        emails = [c["email"] for c in await sandboxes.call(f"panel{index}", "clients")]
        if len(emails) != len(set(emails)):
            problems.append(f"panel{index} holds a client twice")
        if len(emails) < len(record.paid):
            problems.append(f"panel{index} holds {len(emails)} clients for {len(record.paid)} payments")
    for payment_id in record.paid:
        user = record.payers[payment_id]
        messages = await sandboxes.call("telegram", "messages", user)
        cards = [m for m in messages if m["photo"]]  # the access card's QR code
        if len(cards) != 1:
            problems.append(f"user {user} got {len(cards)} access cards")
    return problems


async def invariants(chaos: Chaos, client: Client) -> Verdict:
    ctx, record, sandboxes = chaos.ctx, chaos.record, chaos.sandboxes
    problems = await payment_problems(ctx, sandboxes, record)
    for user in chaos.reminded:  # their reminder, besides the broadcast's copy
        messages = await sandboxes.call("telegram", "messages", user)
        reminders = [m for m in messages if m["text"] != BROADCAST_TEXT]
        if len(reminders) != 1:
            problems.append(f"reminded user {user} got {len(reminders)} reminders")
    # The broadcast went to everyone registered when it started (its snapshot): each got one copy.
    async with ctx.sessions() as session:
        query = select(BroadcastDelivery.user_id, BroadcastDelivery.status).where(
            BroadcastDelivery.broadcast_id == chaos.broadcast_id
        )
        recipients = dict((await session.execute(query)).all())
    if not set(chaos.audience) <= set(recipients):
        problems.append("the broadcast's snapshot misses some of the audience")
    for user, status in recipients.items():
        messages = await sandboxes.call("telegram", "messages", user)
        copies = [m for m in messages if m["text"] == BROADCAST_TEXT]
        if status is not DeliveryStatus.SENT or len(copies) != 1:
            problems.append(f"broadcast recipient {user}: {status}, {len(copies)} copies")
    windows = [(stopped, started + 5.0) for stopped, started in record.postgres_down]
    unanswered = [
        moment
        for moment, answered in record.sub_rounds
        if not answered and not any(low <= moment <= high for low, high in windows)
    ]
    if unanswered:
        problems.append(
            f"/sub unanswered by both APIs in {len(unanswered)} rounds outside the PostgreSQL restart"
        )
    problems += [f"stuck: {what}" for what in await stuck_workflows(client)]
    for name, log in chaos.topo.logs().items():
        problems += [f"{name}: {line}" for line in _tracebacks(log)]
    world_429 = await sandboxes.call("telegram", "world.too_many_requests")
    figures = {
        "seed": record.seed,
        "payments paid": len(record.paid),
        "/sub rounds": len(record.sub_rounds),
        "/sub rounds unanswered (all)": sum(1 for _, ok in record.sub_rounds if not ok),
        "telegram 429s": world_429,
        "faults": [what for _, what in record.faults],
        "client retries": len(record.errors),
    }
    return Verdict(problems, figures)
