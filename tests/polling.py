"""Waiting in tests for something that happens in another task, process or server."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def eventually(check: Callable[[], Awaitable[T]], seconds: float = 30, every: float = 0.1) -> T:
    """The first truthy result of `check()`, polled every `every` seconds; fails after `seconds`."""
    for _ in range(max(1, round(seconds / every))):
        result = await check()
        if result:
            return result
        await asyncio.sleep(every)
    raise AssertionError(f"condition not met within {seconds} s")
