"""Provider time that tests can move forward (deadlines, expiries) without sleeping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class MovableClock:
    offset: timedelta = timedelta()

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def advance(self, delta: timedelta) -> None:
        self.offset += delta
