"""Ledger activities: apply a grant (idempotent by its source key)."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel
from temporalio import activity

from shop.access import ledger
from shop.db import SessionFactory
from shop.models import GrantKind, Product
from shop.payments.timeline import note_grant


class ApplyGrantInput(BaseModel):
    subscription_id: int
    source_key: str
    seconds: int
    kind: GrantKind
    actor: str
    product: Product = Product.VPN


class ApplyGrantResult(BaseModel):
    applied: bool
    expires_at: datetime


class LedgerActivities:
    def __init__(self, sessions: SessionFactory) -> None:
        self.sessions = sessions

    @activity.defn
    async def apply_grant(self, inp: ApplyGrantInput) -> ApplyGrantResult:
        result = await ledger.grant(
            self.sessions,
            inp.subscription_id,
            inp.source_key,
            timedelta(seconds=inp.seconds),
            inp.kind,
            inp.actor,
            product=inp.product,
        )
        if inp.kind is GrantKind.PURCHASE:  # a purchase is keyed by its payment id
            await note_grant(
                self.sessions, inp.source_key, inp.seconds, result.grant_expiry, result.applied, inp.actor
            )
        return ApplyGrantResult(applied=result.applied, expires_at=result.expires_at)
