"""Faults a test can switch on in a sandbox panel; each counter is consumed by matching requests."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Faults:
    delay: float = 0.0  # seconds added to every request ("slow")
    panic_next: int = 0  # the next N API calls answer HTTP 500 with an empty body, changing nothing
    empty_next: int = 0  # the next N writes are applied, then answered 200 with an empty body
    commit_then_timeout: int = 0  # the next N writes are applied, then the answer never comes
    hang_seconds: float = 60.0  # how long a "never" answer hangs before the connection drops
    only_path: str = ""  # when set, the counters above apply only to paths containing it

    def matches(self, path: str) -> bool:
        return not self.only_path or self.only_path in path

    def take(self, name: str, path: str) -> bool:
        if not self.matches(path) or getattr(self, name) <= 0:
            return False
        setattr(self, name, getattr(self, name) - 1)
        return True

    def clear(self) -> None:
        self.delay = 0.0
        self.panic_next = self.empty_next = self.commit_then_timeout = 0
        self.only_path = ""
