"""Per-client token buckets, in memory: each API process limits on its own (N processes allow N×)."""

from __future__ import annotations

import time


class RateLimiter:
    def __init__(self, per_minute: int, burst: int, max_clients: int = 100_000) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.max_clients = max_clients
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, updated at)

    @property
    def enabled(self) -> bool:
        return self.rate > 0

    def acquire(self, key: str, now: float | None = None) -> float:
        """0 when the request may go ahead, else the seconds until the client's next token."""
        if not self.enabled:
            return 0.0
        now = time.monotonic() if now is None else now
        tokens, updated = self._buckets.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - updated) * self.rate)
        if tokens < 1.0:
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / self.rate
        if key not in self._buckets and len(self._buckets) >= self.max_clients:
            self._forget_idle(now)
        self._buckets[key] = (tokens - 1.0, now)
        return 0.0

    def _forget_idle(self, now: float) -> None:
        # A bucket that has refilled completely holds no information: drop those; if every client is
        # busy, drop the oldest half so memory stays bounded under a flood of addresses.
        refill = self.burst / self.rate
        idle = [key for key, (_, updated) in self._buckets.items() if now - updated >= refill]
        for key in idle:
            del self._buckets[key]
        if len(self._buckets) >= self.max_clients:
            by_age = sorted(self._buckets, key=lambda key: self._buckets[key][1])
            for key in by_age[: len(by_age) // 2]:
                del self._buckets[key]
