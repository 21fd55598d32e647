"""Webhook delivery as providers do it: at least once, redelivered until HTTP 200 within a
window, optionally duplicated, held back and released out of order, or lost.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import aiohttp

log = logging.getLogger(__name__)


@dataclass
class Attempt:
    body: bytes
    status: int | None  # None: the connection failed


@dataclass
class WebhookSender:
    url: str | None = None
    headers: Callable[[bytes], dict[str, str]] = lambda _body: {}
    retry_interval: float = 0.2
    window: float = 30.0  # stop redelivering after this many seconds (YooKassa: 24 h)
    max_attempts: int | None = None  # Crypto Pay: 17, then the webhook is disabled
    copies: int = 1  # each event sent this many times at once (duplicates)
    lose: bool = False  # drop events entirely (a lost webhook)
    hold: bool = False  # keep events until release() (out of order delivery)
    disabled: bool = False
    # Providers deliver from a bounded set of workers.
    concurrency: int = 32
    attempts: list[Attempt] = field(default_factory=list)
    gave_up: list[bytes] = field(default_factory=list)  # events never answered 200: redelivery ended
    held: list[tuple[bytes, dict[str, str]]] = field(default_factory=list)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _http: aiohttp.ClientSession | None = None
    _slots: asyncio.Semaphore | None = None

    def send(self, body: bytes, extra_headers: dict[str, str] | None = None) -> None:
        if self.lose or self.disabled or not self.url:
            return
        headers = {"Content-Type": "application/json", **self.headers(body), **(extra_headers or {})}
        if self.hold:
            self.held.append((body, headers))
            return
        for _ in range(self.copies):
            task = asyncio.get_running_loop().create_task(self._deliver(body, headers))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def release(self, reverse: bool = True) -> None:
        held, self.held, self.hold = self.held, [], False
        for body, headers in reversed(held) if reverse else held:
            self.send(body, headers)

    async def _deliver(self, body: bytes, headers: dict[str, str]) -> None:
        assert self.url
        if self._http is None:
            # aiohttp: httpx took 2.3 ms of CPU a request here, and in the payments bench this
            # process shares the machine with the shop (bench/http_client_bench.py).
            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10.0))
            self._slots = asyncio.Semaphore(self.concurrency)
        assert self._slots is not None
        deadline = asyncio.get_running_loop().time() + self.window
        tries = 0
        while not self.disabled:
            tries += 1
            try:
                async with self._slots, self._http.post(self.url, data=body, headers=headers) as answer:
                    await answer.read()
                    status: int | None = answer.status
            except (aiohttp.ClientError, TimeoutError):
                status = None
            self.attempts.append(Attempt(body, status))
            if status == 200:
                return
            if self.max_attempts and tries >= self.max_attempts:
                log.warning("webhook to %s failed %s times: disabled", self.url, tries)
                self.disabled = True
                self.gave_up.append(body)
                return
            if asyncio.get_running_loop().time() > deadline:
                self.gave_up.append(body)
                return
            await asyncio.sleep(self.retry_interval)

    async def drain(self) -> None:
        """Wait until every event in flight got its 200 (or gave up)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._http is not None:
            await self._http.close()
