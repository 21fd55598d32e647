"""The sandboxes `bench.payments_bench` pays through, in a process of their own: `sandbox.stack`'s
(YooKassa, the Telegram Bot API at Telegram's 30 messages a second, two 3x-ui panels) behind a
control API for the load generator, whose calls each answer for a whole batch. Writes their
addresses (`sandbox.stack.started`'s) to the file named by its argument, then serves until killed.

    .venv/bin/python -m bench.payments_sandboxes /tmp/sandboxes.json
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException

from sandbox.stack import Sandboxes, started


def control(sandboxes: Sandboxes) -> FastAPI:
    yookassa, telegram, panels = sandboxes.yookassa, sandboxes.telegram, sandboxes.panels
    app = FastAPI()

    @app.post("/users")
    async def users(ids: list[int]) -> int:
        for user_id in ids:
            telegram.add_user(user_id, f"u{user_id}", language_code="en")
        return len(ids)

    @app.post("/webhooks")
    async def webhooks(url: str, copies: int) -> None:
        yookassa.webhooks.url, yookassa.webhooks.copies = url, copies
        yookassa.webhooks.window = 3600.0  # YooKassa redelivers for 24 h

    @app.post("/pay")
    async def pay(order_ids: list[str]) -> dict[str, str]:
        """Pays the YooKassa payments of these orders; their webhooks go out (with copies)."""
        paid = {}
        for order_id in order_ids:
            provider_id = yookassa.by_order(order_id)["id"]
            yookassa.pay(provider_id)
            paid[order_id] = provider_id
        return paid

    @app.get("/payment/{provider_id}")
    async def payment(provider_id: str) -> dict[str, Any]:
        return yookassa.payments[provider_id]

    @app.get("/by-order/{order_id}")
    async def by_order(order_id: str) -> dict[str, Any]:
        try:
            return yookassa.by_order(order_id)
        except (KeyError, StopIteration, LookupError):
            raise HTTPException(404, "no payment for this order yet") from None

    @app.post("/created")
    async def created(order_ids: list[str]) -> int:
        """How many of these orders have their YooKassa payment (the workflow created it)."""
        known = {p.get("metadata", {}).get("order_id") for p in yookassa.payments.values()}
        return sum(order_id in known for order_id in order_ids)

    @app.post("/cards")
    async def cards(ids: list[int]) -> list[int]:
        """The customers among `ids` whose access card is complete (its QR code has arrived)."""
        return [user_id for user_id in ids if any(m.photo for m in telegram.messages(user_id))]

    @app.get("/messages")
    async def messages() -> int:
        return len(telegram.calls("sendMessage")) + len(telegram.calls("sendPhoto"))

    @app.post("/panel/{index}/{state}")
    async def panel(index: int, state: str) -> None:
        await (panels[index].down() if state == "down" else panels[index].up())

    return app


async def main(ready_file: Path) -> None:
    async with started(control, webhook_retry_delay=0.05) as info:
        ready_file.write_text(json.dumps(info))  # noqa: ASYNC240 (once, before serving)
        await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1])))
