"""Background heartbeats for activities scheduled with a heartbeat timeout.

Without a heartbeat, an activity whose worker died (SIGKILL, OOM, a lost machine) is retried only
after its start-to-close timeout (30-60 s); with one it is retried once the heartbeat timeout
passes. Workflows opt in per call with `heartbeat_timeout`; this interceptor then beats for the
activity while it runs, so the activity code stays unchanged. Beats repeat the activity's own last
details, so an activity that reports progress keeps its details for the next attempt.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from typing import Any

from temporalio import activity
from temporalio.worker import (
    ActivityInboundInterceptor,
    ActivityOutboundInterceptor,
    ExecuteActivityInput,
    Interceptor,
)


class _Outbound(ActivityOutboundInterceptor):
    def __init__(self, next: ActivityOutboundInterceptor) -> None:
        super().__init__(next)
        self.details: Sequence[Any] = ()

    def heartbeat(self, *details: Any) -> None:
        self.details = details
        super().heartbeat(*details)


class _Inbound(ActivityInboundInterceptor):
    def init(self, outbound: ActivityOutboundInterceptor) -> None:
        self.outbound = _Outbound(outbound)
        super().init(self.outbound)

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        timeout = activity.info().heartbeat_timeout
        if not timeout or activity.info().is_local:
            return await super().execute_activity(input)
        every = timeout.total_seconds() / 3

        async def beat() -> None:
            while True:
                # The first beat waits: most activities end sooner and never cost a heartbeat.
                await asyncio.sleep(every)
                self.outbound.next.heartbeat(*self.outbound.details)

        beating = asyncio.create_task(beat())
        try:
            return await super().execute_activity(input)
        finally:
            beating.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beating


class Liveness(Interceptor):
    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _Inbound(next)
