"""Lifecycle activities: find the subscriptions whose access must be closed on the panels."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from temporalio import activity

from shop.db import SessionFactory
from shop.lifecycle import ended_but_enabled
from shop.models import utcnow


class FindEndedInput(BaseModel):
    now: datetime | None = None
    limit: int = 1000


class LifecycleActivities:
    def __init__(self, sessions: SessionFactory) -> None:
        self.sessions = sessions

    @activity.defn
    async def find_ended_access(self, inp: FindEndedInput) -> list[int]:
        return await ended_but_enabled(self.sessions, inp.now or utcnow(), inp.limit)
