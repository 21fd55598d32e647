"""Panel activities: thin adapters from workflows to shop.access.provisioning and shop.access.reconcile."""

from __future__ import annotations

import logging

from pydantic import BaseModel
from temporalio import activity
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory

from shop.access.provisioning import ClientSync, Provisioner, SyncStatus, enabled_host_ids
from shop.access.reconcile import HostReconcileReport, reconcile_host, save_report
from shop.crypto import Sealer
from shop.db import SessionFactory
from shop.models import Host
from shop.panel.errors import PanelAuthError, PanelError, PanelUnavailable
from shop.panel.links import UnsupportedInbound, panel_hostname
from shop.panel.pool import PanelPool
from shop.payments.timeline import EventKind, note
from shop.settings import Settings

log = logging.getLogger("vpnshop.panels")


class ListHostsInput(BaseModel):
    only: list[int] | None = None  # None: every enabled host


class ClientOnHostInput(BaseModel):
    subscription_id: int
    host_id: int
    payment_id: str | None = None  # the payment this run delivers, for its timeline


class MarkForReconcileInput(BaseModel):
    subscription_id: int
    host_id: int
    error: str = ""


class ReconcileHostInput(BaseModel):
    host_id: int


def _failure(error: Exception, host: Host) -> ApplicationError:
    """One log line per attempt, naming the host and the cause; the SDK's own per-attempt traceback
    (sixty lines of httpx for a panel that is simply down) is kept to DEBUG by the BENIGN category."""
    # Outages and auth trouble may pass (retry within the bound); a missing or non-VLESS inbound
    # or a foreign client holding our email will not, so those fail at once.
    retryable = isinstance(error, PanelUnavailable | PanelAuthError)
    cause = " ".join(f"{type(error).__name__}: {error}".split())[:300]
    attempt = activity.info().attempt
    log.warning(
        "host %s (%s): %s (attempt %d, %s)",
        host.name,
        panel_hostname(host.panel_url),
        cause,
        attempt,
        "will retry" if retryable else "not retried",
    )
    return ApplicationError(
        f"host {host.name}: {cause}",
        type=type(error).__name__,
        non_retryable=not retryable,
        category=ApplicationErrorCategory.BENIGN,
    )


class PanelActivities:
    def __init__(self, sessions: SessionFactory, settings: Settings, pool: PanelPool | None = None) -> None:
        self.sessions = sessions
        self.pool = pool or PanelPool(lambda: Sealer.from_settings(settings), settings.panel_timeout_seconds)
        self.provisioner = Provisioner(sessions, self.pool, settings.panel_email_prefix)

    async def _enabled_host(self, host_id: int) -> Host | None:
        host = await self.provisioner.host(host_id)
        return host if host is not None and host.enabled else None

    @activity.defn
    async def list_enabled_hosts(self, inp: ListHostsInput) -> list[int]:
        return await enabled_host_ids(self.sessions, inp.only)

    @activity.defn
    async def upsert_client(self, inp: ClientOnHostInput) -> ClientSync:
        host = await self._enabled_host(inp.host_id)
        if host is None:
            return ClientSync(
                subscription_id=inp.subscription_id, host_id=inp.host_id, status=SyncStatus.SKIPPED
            )
        try:
            sync = await self.provisioner.sync(host, inp.subscription_id)
        except (PanelError, UnsupportedInbound) as error:
            failure = _failure(error, host)
            if inp.payment_id:
                then = "will retry" if not failure.non_retryable else "not retried"
                detail = f"{failure.message} (attempt {activity.info().attempt}, {then})"
                await note(self.sessions, inp.payment_id, EventKind.HOST_FAILED, detail)
            raise failure from error
        if inp.payment_id:
            await note(
                self.sessions, inp.payment_id, EventKind.HOST_READY, f"host {host.name}: {sync.status}"
            )
        return sync

    @activity.defn
    async def mark_for_reconcile(self, inp: MarkForReconcileInput) -> None:
        activity.logger.warning(
            "subscription %s on host %s left for reconciliation: %s",
            inp.subscription_id,
            inp.host_id,
            inp.error,
        )
        await self.provisioner.mark_for_reconcile(inp.subscription_id, inp.host_id)

    @activity.defn
    async def reconcile_host(self, inp: ReconcileHostInput) -> HostReconcileReport:
        host = await self._enabled_host(inp.host_id)
        if host is None:
            return HostReconcileReport(host_id=inp.host_id, host_name="", errors=["host gone or disabled"])
        try:
            report = await reconcile_host(
                self.provisioner, host, progress=lambda done: activity.heartbeat(done)
            )
        except (PanelError, UnsupportedInbound) as error:
            failed = HostReconcileReport(
                host_id=host.id, host_name=host.name, errors=[f"{type(error).__name__}: {error}"[:500]]
            )
            await save_report(self.provisioner.sessions, failed)
            raise _failure(error, host) from error
        await save_report(self.provisioner.sessions, report)
        return report
