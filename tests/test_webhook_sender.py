"""The sandboxes' webhook sender (sandbox/delivery.py) delivers as providers do, over real HTTP:
copies at once, redelivery until a 200, an unreachable endpoint retried until the window or the
attempt limit ends, and what it gave up on kept for the test to see."""

from __future__ import annotations

import socket

from fastapi import FastAPI, Request, Response

from sandbox.delivery import WebhookSender
from sandbox.serving import serve


def _closed_port() -> int:
    with socket.socket() as sock:  # bound, never listening: connections are refused
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_refused_answers_are_redelivered_until_a_200_and_copies_each_arrive() -> None:
    app, seen = FastAPI(), []

    @app.post("/hook")
    async def hook(request: Request) -> Response:
        seen.append((await request.body(), request.headers.get("x-sig")))
        return Response(status_code=500 if len(seen) <= 2 else 200)

    async with serve(app) as url:
        sender = WebhookSender(
            url=f"{url}/hook", headers=lambda body: {"X-Sig": str(len(body))}, retry_interval=0.05
        )
        sender.copies = 2
        sender.send(b'{"event":"x"}')
        await sender.drain()
        await sender.aclose()
    assert sorted(a.status or 0 for a in sender.attempts) == [200, 200, 500, 500]
    assert {body for body, _sig in seen} == {b'{"event":"x"}'} and {sig for _b, sig in seen} == {"13"}
    assert sender.gave_up == []


async def test_an_unreachable_endpoint_is_retried_until_the_window_ends() -> None:
    sender = WebhookSender(url=f"http://127.0.0.1:{_closed_port()}/hook", retry_interval=0.05, window=0.3)
    sender.send(b"{}")
    await sender.drain()
    await sender.aclose()
    assert len(sender.attempts) >= 2 and {a.status for a in sender.attempts} == {None}
    assert sender.gave_up == [b"{}"] and not sender.disabled


async def test_the_attempt_limit_disables_the_webhook_as_crypto_pay_does() -> None:
    sender = WebhookSender(url=f"http://127.0.0.1:{_closed_port()}/hook", retry_interval=0.01, max_attempts=3)
    sender.send(b"{}")
    await sender.drain()
    sender.send(b"{}")  # a disabled webhook sends nothing more
    await sender.drain()
    await sender.aclose()
    assert [a.status for a in sender.attempts] == [None, None, None]
    assert sender.disabled and sender.gave_up == [b"{}"]
