"""Lifecycle activities: find the subscriptions whose access on the panels is out of line with the
database (ended but enabled, or unbanned but still disabled)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from temporalio import activity

from shop.access.lifecycle import access_out_of_line
from shop.db import SessionFactory
from shop.models import utcnow


class FindEndedInput(BaseModel):
    now: datetime | None = None
    limit: int = 1000


class LifecycleActivities:
    def __init__(self, sessions: SessionFactory) -> None:
        self.sessions = sessions

    @activity.defn
    async def find_ended_access(self, inp: FindEndedInput) -> list[int]:
        return await access_out_of_line(self.sessions, inp.now or utcnow(), inp.limit)
