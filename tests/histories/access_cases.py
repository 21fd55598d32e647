"""Recorded runs of access workflows: a trial grant, a host down past its bound, reconciliation of
drift, closing ended access on the panels, the reminder scan and its cleanup."""

from __future__ import annotations

import contextlib
from datetime import timedelta

from bot.main import build_bot
from sandbox.panel import V2, V3_1, SandboxPanel
from sandbox.telegram import TelegramSandbox
from shop.access import ledger
from shop.access.trial import start_trial, trial_source_key
from shop.customers.accounts import ensure_subscription, register_user
from shop.models import GrantKind, utcnow
from tests.factories import subscriber
from tests.histories.recorder import Recorder, Scenario, expect
from tests.panel_fixtures import add_sandbox_host
from worker.main import build_worker
from worker.schedules import CLOSE_ENDED_ACCESS_ID, EXPIRY_SCAN_ID, REMINDER_CLEANUP_ID
from workflows.expiry import (
    CloseEndedAccessInput,
    CloseEndedAccessWorkflow,
    ExpiryScanInput,
    ExpiryScanWorkflow,
    ReminderCleanupInput,
    ReminderCleanupWorkflow,
)
from workflows.grant import grant_workflow_id
from workflows.provision import ProvisionInput, ProvisionSubscriptionWorkflow, provision_workflow_id
from workflows.reconcile import RECONCILE_WORKFLOW_ID, ReconcileInput, ReconcilePanelsWorkflow


async def panels(rec: Recorder) -> None:
    ctx = await rec.context("panels")
    queue = ctx.settings.temporal_task_queue
    async with contextlib.AsyncExitStack() as stack:
        steady = await stack.enter_async_context(SandboxPanel(version=V3_1))
        flaky = await stack.enter_async_context(SandboxPanel(version=V2))
        for panel in (steady, flaky):
            rec.keep_out(panel.password)
        await add_sandbox_host(ctx, steady, name="steady")
        flaky_host = await add_sandbox_host(ctx, flaky, name="flaky")
        await stack.enter_async_context(build_worker(ctx, rec.client))

        alice = await subscriber(ctx.sessions, 1001, "Alice")
        await start_trial(ctx, 1001)
        expect(len(steady.clients()) == len(flaky.clients()) == 1, "the trial is on both hosts")
        await rec.save("grant_trial_provisioned", grant_workflow_id(trial_source_key(1001)))

        bob = await subscriber(ctx.sessions, 1002, "Bob")
        await ledger.grant(ctx.sessions, bob.id, "payment:bob", timedelta(days=30), GrantKind.PURCHASE, "rec")
        await flaky.down()
        provision_id = provision_workflow_id(bob.id, "payment:bob")
        result = await rec.client.execute_workflow(
            ProvisionSubscriptionWorkflow.run,
            ProvisionInput(subscription_id=bob.id, retry_seconds=3),
            id=provision_id,
            task_queue=queue,
        )
        expect(result.failed_hosts == [flaky_host.id], f"only the flaky host failed: {result}")
        await rec.save("provision_host_down_marked", provision_id)
        await flaky.up()

        # Someone shortened and disabled Alice in the steady panel's UI; Bob is still missing on flaky.
        [drifted] = [c for c in steady.clients() if c["email"].startswith(f"vpnshop-{alice.id}-")]
        drifted["expiryTime"] -= 86_400_000
        drifted["enable"] = False
        reconciled = await rec.client.execute_workflow(
            ReconcilePanelsWorkflow.run, ReconcileInput(), id=RECONCILE_WORKFLOW_ID, task_queue=queue
        )
        fixed = sum(r.fixed_expiry + r.fixed_enabled + r.recreated + r.backfilled for r in reconciled.hosts)
        expect(fixed >= 2 and len(flaky.clients()) == 2, f"drift fixed: {reconciled}")
        await rec.save("reconcile_drift_fixed", RECONCILE_WORKFLOW_ID)

        ended = -timedelta(days=4)  # longer than the trial
        await ledger.grant(ctx.sessions, alice.id, "refund:alice", ended, GrantKind.REFUND, "rec")
        closed = await rec.client.execute_workflow(
            CloseEndedAccessWorkflow.run, CloseEndedAccessInput(), id=CLOSE_ENDED_ACCESS_ID, task_queue=queue
        )
        closed_client = steady.client(drifted["email"])
        expect(closed.closed == 1 and closed_client and not closed_client["enable"], f"closed: {closed}")
        await rec.save("close_ended_access_disabled", CLOSE_ENDED_ACCESS_ID)


async def reminders(rec: Recorder) -> None:
    async with TelegramSandbox() as telegram:
        ctx = await rec.context(
            "reminders", telegram_bot_token=telegram.token, telegram_api_url=telegram.api_url
        )
        queue = ctx.settings.temporal_task_queue
        now = utcnow()
        for user_id, language, kind in ((1001, "en", GrantKind.PURCHASE), (1002, "ru", GrantKind.TRIAL)):
            telegram.add_user(user_id, f"User{user_id}", language_code=language)
            await register_user(ctx.sessions, user_id, None, f"User{user_id}", language=language)
            sub = await ensure_subscription(ctx.sessions, user_id)
            month = timedelta(days=30)
            granted_at = now + timedelta(hours=20) - month  # ends in 20 h: the -24h mark
            await ledger.grant(ctx.sessions, sub.id, f"src:{user_id}", month, kind, "rec", granted_at)
        bot = build_bot(ctx.settings)
        try:
            async with build_worker(ctx, rec.client, bot=bot):
                report = await rec.client.execute_workflow(
                    ExpiryScanWorkflow.run, ExpiryScanInput(), id=EXPIRY_SCAN_ID, task_queue=queue
                )
                expect(report.sent == 2 and telegram.messages(1001), f"two reminders sent: {report}")
                await rec.save("expiry_scan_reminders_sent", EXPIRY_SCAN_ID)
                deleted = await rec.client.execute_workflow(
                    ReminderCleanupWorkflow.run,
                    ReminderCleanupInput(keep_days=1, now=now + timedelta(days=4)),
                    id=REMINDER_CLEANUP_ID,
                    task_queue=queue,
                )
                expect(deleted == 2, f"both sent reminders are old enough to go: {deleted}")
                await rec.save("reminder_cleanup_deleted", REMINDER_CLEANUP_ID)
        finally:
            await bot.session.close()


SCENARIOS = [
    Scenario(
        "panels",
        (
            "grant_trial_provisioned",
            "provision_host_down_marked",
            "reconcile_drift_fixed",
            "close_ended_access_disabled",
        ),
        panels,
    ),
    Scenario("reminders", ("expiry_scan_reminders_sent", "reminder_cleanup_deleted"), reminders),
]
