"""The sandboxes in a process of their own, for tests and benchmarks that run the shop as real
processes (`tests/topology.py`, `bench/soak.py`): the Telegram Bot API (30 messages a second per
bot, 429 beyond, as Telegram), YooKassa and two 3x-ui panels. `started` brings them up behind a
control API of the caller's choosing; `bench/payments_sandboxes.py` starts them with its own.

    python -m sandbox.stack         # prints one JSON line: the URLs, then serves until SIGTERM

Its control API is one route, `POST /control` with `{"target": "telegram" | "yookassa" | "panel0"
| "panel1", "call": "dotted.name", "args": [...], "kwargs": {...}}`: calls that method (awaited
when it is a coroutine) or, with `"set": value`, assigns that attribute, and answers
`{"result": ...}` as JSON (dataclasses as dicts, bytes as their length), or 409 `{"error": ...}`
when the call raised.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import enum
import inspect
import json
import signal
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import ASGIApp

from sandbox.panel import SandboxPanel
from sandbox.serving import serve
from sandbox.telegram import TelegramSandbox
from sandbox.yookassa import FakeYooKassa

TELEGRAM_LIMIT = 30  # messages a second per bot


def jsonable(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(item) for item in value]
    if isinstance(value, bytes):
        return len(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Decimal | datetime):
        return str(value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return repr(value)


class Control:
    def __init__(self, targets: dict[str, Any]) -> None:
        self.targets = targets

    async def handle(self, request: Request) -> JSONResponse:
        body = await request.json()
        owner = self.targets[body["target"]]
        *path, name = body["call"].split(".")
        for part in path:
            owner = getattr(owner, part)
        if "set" in body:
            setattr(owner, name, body["set"])
            return JSONResponse({"result": None})
        try:
            result = getattr(owner, name)
            if callable(result):
                result = result(*body.get("args", []), **body.get("kwargs", {}))
            if inspect.isawaitable(result):
                result = await result
        except Exception as error:  # the caller's question has no answer (yet): say so, stay up
            return JSONResponse({"error": f"{type(error).__name__}: {error}"}, status_code=409)
        return JSONResponse({"result": jsonable(result)})


@dataclass(frozen=True)
class Sandboxes:
    telegram: TelegramSandbox
    yookassa: FakeYooKassa
    panels: list[SandboxPanel]


@contextlib.asynccontextmanager
async def started(
    control: Callable[[Sandboxes], ASGIApp], webhook_retry_delay: float = 0.2
) -> AsyncIterator[dict[str, Any]]:
    """The sandboxes and `control(sandboxes)` served; yields what a client needs (the JSON line
    `main` prints): the control API's URL, the Telegram and YooKassa credentials, the panels."""
    yookassa = FakeYooKassa()
    async with contextlib.AsyncExitStack() as stack:
        telegram = await stack.enter_async_context(TelegramSandbox(webhook_retry_delay=webhook_retry_delay))
        telegram.set_rate_limit(TELEGRAM_LIMIT)
        panels = [await stack.enter_async_context(SandboxPanel()) for _ in range(2)]
        yookassa.base_url = await stack.enter_async_context(serve(yookassa.app))
        stack.push_async_callback(yookassa.webhooks.aclose)
        control_url = await stack.enter_async_context(serve(control(Sandboxes(telegram, yookassa, panels))))
        yield {
            "control": control_url,
            "telegram_token": telegram.token,
            "telegram_api_url": telegram.api_url,
            "yookassa_url": yookassa.base_url,
            "yookassa_shop_id": yookassa.shop_id,
            "yookassa_secret_key": yookassa.secret_key,
            "panels": [
                {
                    "url": p.url,
                    "username": p.username,
                    "password": p.password,
                    "inbound_id": p.inbound_id,
                    "port": p.port,
                }
                for p in panels
            ],
        }


def generic_control(sandboxes: Sandboxes) -> Starlette:
    targets: dict[str, Any] = {"telegram": sandboxes.telegram, "yookassa": sandboxes.yookassa}
    targets |= {f"panel{index}": panel for index, panel in enumerate(sandboxes.panels)}
    return Starlette(routes=[Route("/control", Control(targets).handle, methods=["POST"])])


async def main() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with started(generic_control) as info:
        print(json.dumps(info), flush=True)
        await stop.wait()


if __name__ == "__main__":
    asyncio.run(main())
    sys.exit(0)
