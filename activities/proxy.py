"""Proxy activities: thin adapters from the proxy workflows to shop.proxy.provisioning."""

from __future__ import annotations

import logging
from datetime import datetime

from pydantic import BaseModel
from temporalio import activity
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory

from shop.crypto import Sealer
from shop.db import SessionFactory
from shop.proxy.errors import MtgAuthError, MtgError, MtgUnavailable
from shop.proxy.pool import MtgPool
from shop.proxy.provisioning import ProxyProvisioner, ProxyStatus, ProxySync, proxies_due
from shop.settings import Settings

log = logging.getLogger("vpnshop.proxy")


class ProxyRef(BaseModel):
    subscription_id: int


class ProxiesDueInput(BaseModel):
    full: bool = False  # True: every proxy (reconciliation); False: those the database says are behind
    now: datetime | None = None


def _failure(error: Exception, subscription_id: int) -> ApplicationError:
    # Outages and login trouble may pass (retry within the bound); a refusal will not.
    retryable = isinstance(error, MtgUnavailable | MtgAuthError)
    cause = " ".join(f"{type(error).__name__}: {error}".split())[:300]
    log.warning(
        "proxy of subscription %s: %s (attempt %d, %s)",
        subscription_id,
        cause,
        activity.info().attempt,
        "will retry" if retryable else "not retried",
    )
    return ApplicationError(
        cause,
        type=type(error).__name__,
        non_retryable=not retryable,
        category=ApplicationErrorCategory.BENIGN,
    )


class ProxyActivities:
    def __init__(self, sessions: SessionFactory, settings: Settings, pool: MtgPool | None = None) -> None:
        self.sessions = sessions
        self.pool = pool or MtgPool(lambda: Sealer.from_settings(settings), settings.panel_timeout_seconds)
        self.provisioner = ProxyProvisioner(sessions, self.pool, settings.panel_email_prefix)

    @activity.defn
    async def sync_proxy(self, inp: ProxyRef) -> ProxySync:
        try:
            sync = await self.provisioner.sync(inp.subscription_id)
        except MtgError as error:
            raise _failure(error, inp.subscription_id) from error
        if sync.status is ProxyStatus.NO_HOST:  # an operator may enable one: retry within the bound
            raise _failure(MtgUnavailable("no enabled MTG host"), inp.subscription_id)
        return sync

    @activity.defn
    async def mark_proxy_for_reconcile(self, inp: ProxyRef) -> None:
        await self.provisioner.mark_for_reconcile(inp.subscription_id)

    @activity.defn
    async def proxies_due(self, inp: ProxiesDueInput) -> list[int]:
        return await proxies_due(self.sessions, inp.full, inp.now)
