"""shop/http_client.py over real HTTP: answers read whole, cookies of an IP-address host kept, base
paths kept, no answer as Unreachable, and the environment's proxy settings read once."""

from __future__ import annotations

import asyncio
import socket

import pytest
from fastapi import FastAPI, Request, Response

from sandbox.serving import serve
from shop.http_client import HttpClient, Timeouts, Unreachable


def _app() -> FastAPI:
    app = FastAPI()

    @app.post("/base/login")
    async def login(response: Response) -> dict[str, bool]:
        response.set_cookie("session", "s1")
        return {"success": True}

    @app.get("/base/whoami/{name}")
    async def whoami(name: str, request: Request) -> dict[str, str | None]:
        return {
            "name": name,
            "session": request.cookies.get("session"),
            "auth": request.headers.get("authorization"),
        }

    @app.get("/base/moved")
    async def moved() -> Response:
        return Response(status_code=302, headers={"Location": "/elsewhere"})

    @app.get("/base/slow")
    async def slow() -> dict[str, bool]:
        await asyncio.sleep(5)
        return {"late": True}

    return app


async def test_cookies_of_an_ip_host_are_kept_and_the_base_path_too() -> None:
    async with serve(_app()) as url:
        http = HttpClient(f"{url}/base", Timeouts.of(5), cookies=True, auth=("shop", "secret"))
        try:
            assert not http.has_cookies()
            assert (await http.request("POST", "login")).json() == {"success": True}
            assert http.has_cookies()
            answer = await http.request("GET", "whoami/a%40b")
            assert answer.status_code == 200
            assert answer.json() == {"name": "a@b", "session": "s1", "auth": "Basic c2hvcDpzZWNyZXQ="}
            assert "json" in answer.headers["Content-Type"]
            http.clear_cookies()
            assert (await http.request("GET", "whoami/x")).json()["session"] is None
            moved = await http.request("GET", "moved")  # an answer, not followed
            assert (moved.status_code, moved.headers["location"]) == (302, "/elsewhere")
            with pytest.raises(ValueError):
                moved.json()
        finally:
            await http.aclose()


async def test_no_answer_is_unreachable() -> None:
    async with serve(_app()) as url:
        http = HttpClient(url, Timeouts.of(0.3))
        try:
            with pytest.raises(Unreachable, match=r"GET base/slow: timed out"):
                await http.request("GET", "base/slow")
        finally:
            await http.aclose()
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    http = HttpClient(f"http://127.0.0.1:{port}", Timeouts.of(2))
    try:
        with pytest.raises(Unreachable, match=r"POST x: ClientConnectorError"):
            await http.request("POST", "x", json={})
    finally:
        await http.aclose()


def test_the_environment_proxy_is_read_once_per_client(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    monkeypatch.setenv("NO_PROXY", "spared.example")
    assert HttpClient("http://10.0.0.1:2053/path/", Timeouts.of(1)).proxy == "http://127.0.0.1:9"
    assert HttpClient("http://spared.example/", Timeouts.of(1)).proxy is None
    assert HttpClient("https://10.0.0.1/", Timeouts.of(1)).proxy is None  # no HTTPS_PROXY set
