"""Reconciliation of one host: compare the database with what the panel holds and repair drift.

Fixes expiry and enabled drift, re-creates missing clients of active subscriptions, back-fills
hosts that are new or re-enabled, and reports (never deletes) clients the shop does not know.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from pydantic import BaseModel
from sqlalchemy import select, update

from shop.access.provisioning import Provisioner, SyncStatus, all_desired
from shop.db import SessionFactory
from shop.models import Host, PanelClient, utcnow
from shop.panel.errors import PanelError
from shop.panel.identity import client_email
from shop.panel.models import RemoteClient

log = logging.getLogger(__name__)
MAX_LISTED = 50  # unknown clients named in the report; the count is always complete


class HostReconcileReport(BaseModel):
    host_id: int
    host_name: str
    panel_clients: int = 0
    checked: int = 0
    unchanged: int = 0
    fixed_expiry: int = 0
    fixed_enabled: int = 0
    fixed_other: int = 0
    recreated: int = 0
    backfilled: int = 0
    failed: int = 0
    unknown_count: int = 0
    unknown_clients: list[str] = []
    errors: list[str] = []

    def summary(self) -> str:
        return (
            f"host {self.host_name}: {self.checked} checked, {self.fixed_expiry} expiry fixed, "
            f"{self.fixed_enabled} enabled fixed, {self.recreated} re-created, "
            f"{self.backfilled} back-filled, "
            f"{self.failed} failed, {self.unknown_count} unknown on the panel"
        )


async def reconcile_host(
    provisioner: Provisioner, host: Host, progress: Callable[[int], None] = lambda _: None
) -> HostReconcileReport:
    report = HostReconcileReport(host_id=host.id, host_name=host.name)
    inbound = await provisioner.pool.inbound(host, fresh=True)  # one call lists every client
    remote = {
        client.email: client
        for client in (RemoteClient.from_settings_entry(entry, inbound.id) for entry in inbound.clients)
    }
    report.panel_clients = len(remote)
    desired = await all_desired(provisioner.sessions)
    async with provisioner.sessions() as session:
        known_rows = set(
            await session.scalars(select(PanelClient.subscription_id).where(PanelClient.host_id == host.id))
        )
    for done, (subscription_id, wanted) in enumerate(sorted(desired.items()), 1):
        progress(done)
        found = remote.pop(client_email(subscription_id, inbound.id, provisioner.prefix), None)
        if found is None and not wanted.active:
            continue  # a missing client of an expired subscription is as good as a disabled one
        report.checked += 1
        try:
            result = await provisioner.sync(host, subscription_id, known=found, inbound=inbound)
        except PanelError as error:
            report.failed += 1
            report.errors.append(f"subscription {subscription_id}: {type(error).__name__}: {error}"[:300])
            continue
        if found is None and result.status is SyncStatus.CREATED:
            if subscription_id in known_rows:
                report.recreated += 1
            else:
                report.backfilled += 1
        elif result.status is SyncStatus.UPDATED:
            _count_drift(report, result.drift)
        else:
            report.unchanged += 1
    # What is left is not ours, or looks ours but its subscription is gone: report, never delete.
    report.unknown_count = len(remote)
    report.unknown_clients = sorted(remote)[:MAX_LISTED]
    log.info("reconcile %s", report.summary())
    return report


async def save_report(sessions: SessionFactory, report: HostReconcileReport) -> None:
    """Keeps the host's latest report (the console shows it); a deleted host keeps nothing."""
    async with sessions() as session, session.begin():
        await session.execute(
            update(Host)
            .where(Host.id == report.host_id)
            .values(last_reconcile_at=utcnow(), last_reconcile_report=report.model_dump_json())
        )


def last_report(host: Host) -> HostReconcileReport | None:
    if not host.last_reconcile_report:
        return None
    return HostReconcileReport.model_validate_json(host.last_reconcile_report)


def _count_drift(report: HostReconcileReport, drift: list[str]) -> None:
    if "expiryTime" in drift:
        report.fixed_expiry += 1
    if "enable" in drift:
        report.fixed_enabled += 1
    if not {"expiryTime", "enable"} & set(drift):
        report.fixed_other += 1
