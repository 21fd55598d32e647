"""The browser page: content in ru and en, and what headless Chromium actually draws."""

from __future__ import annotations

import asyncio
import contextlib
import re
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from PIL import Image

from api.app import create_app
from shop.context import AppContext
from shop.runtime.temporal import free_port
from tests.conftest import Database
from tests.sub_client import api_client
from tests.sub_data import make_hosts, seed_subscription
from tests.test_sub_endpoint import sub_context

BROWSER = {"Accept": "text/html,application/xhtml+xml", "User-Agent": "Mozilla/5.0 (Linux; Android 14)"}


async def test_page_shows_status_expiry_qr_and_app_buttons(db: Database) -> None:
    seeded = await seed_subscription(db.sessions, await make_hosts(db.sessions), days=30)
    url = f"https://vpn.example.com/sub/{seeded.token}"
    async with api_client(sub_context(db)) as client:
        ru = await client.get(
            f"/sub/{seeded.token}", headers={**BROWSER, "Accept-Language": "ru-RU,ru;q=0.9"}
        )
        en = await client.get(
            f"/sub/{seeded.token}", headers={**BROWSER, "Accept-Language": "en-US,en;q=0.8"}
        )
    assert ru.headers["content-type"] == "text/html; charset=utf-8"
    assert ru.headers["referrer-policy"] == "no-referrer"
    assert "content-disposition" not in ru.headers
    assert "Активна" in ru.text and "Осталось дней: 30" in ru.text
    assert "Active" in en.text and "30 days left" in en.text
    assert seeded.expires_at is not None
    assert seeded.expires_at.strftime("%d.%m.%Y") in en.text
    assert re.search(r"<svg[^>]*>.*<path", en.text, re.S)
    for deep_link in (
        f"happ://add/{url}",
        f"v2raytun://import/{url}",
        f"hiddify://import/{url}#",
        "v2rayng://install-sub?url=https%3A%2F%2Fvpn.example.com%2Fsub%2F",
        f"streisand://import/{url}#",
        "clash://install-config?url=https%3A%2F%2Fvpn.example.com%2Fsub%2F",
    ):
        assert deep_link in en.text
    assert "%3Fformat%3Dclash" in en.text
    for platform in ("Android", "iOS", "Windows", "macOS", "Linux"):
        assert f"<summary>{platform}</summary>" in en.text
    assert "Google Play" in en.text and "Google Play" in ru.text


async def test_expired_page_offers_renewal(sqlite_db: Database) -> None:
    from datetime import timedelta

    from shop.models import utcnow

    seeded = await seed_subscription(
        sqlite_db.sessions, await make_hosts(sqlite_db.sessions), days=1, now=utcnow() - timedelta(days=5)
    )
    async with api_client(sub_context(sqlite_db)) as client:
        page = await client.get(f"/sub/{seeded.token}", headers={**BROWSER, "Accept-Language": "en"})
    assert "Expired" in page.text
    assert 'href="https://t.me/example_shop_bot"' in page.text


@contextlib.asynccontextmanager
async def serving(ctx: AppContext) -> AsyncIterator[str]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(ctx), host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


def dark(pixel: Any) -> bool:
    return max(pixel[:3]) < 40


def button_blue(pixel: Any) -> bool:
    red, green, blue = pixel[:3]
    return abs(red - 0x2F) < 25 and abs(green - 0x6F) < 25 and abs(blue - 0xED) < 25


@pytest.mark.browser
async def test_chromium_renders_the_qr_and_the_buttons(sqlite_db: Database, tmp_path: Path) -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("chromium is not installed (.ci/run installs Debian's chromium package)")
    seeded = await seed_subscription(sqlite_db.sessions, await make_hosts(sqlite_db.sessions))
    shot = tmp_path / "page.png"
    async with serving(sub_context(sqlite_db)) as base:
        process = await asyncio.create_subprocess_exec(
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--lang=en-US",
            f"--user-data-dir={tmp_path / 'profile'}",
            "--window-size=412,1100",
            f"--screenshot={shot}",
            f"{base}/sub/{seeded.token}",
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            await asyncio.wait_for(process.wait(), timeout=60)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    image = Image.open(shot).convert("RGB")
    width, height = image.size
    pixels = image.load()
    assert pixels is not None
    # The QR: a square block of dark modules, about 240 px wide, in the upper half of a phone screen.
    dark_points = [(x, y) for y in range(0, height, 2) for x in range(0, width, 2) if dark(pixels[x, y])]
    xs, ys = [x for x, _ in dark_points], [y for _, y in dark_points]
    left, right, top, bottom = min(xs), max(xs), min(ys), max(ys)
    assert 200 <= right - left <= 260 and 200 <= bottom - top <= 260, (left, right, top, bottom)
    assert abs((right - left) - (bottom - top)) <= 6
    share = len(dark_points) / (((right - left) // 2 + 1) * ((bottom - top) // 2 + 1))
    assert 0.3 < share < 0.7  # modules, not a filled box or a stray line
    # Below the QR: the copy button, then three rows of app buttons, each a band of blue rows.
    blue_rows = sorted(
        {y for y in range(bottom, height) for x in range(0, width, 4) if button_blue(pixels[x, y])}
    )
    bands = [[blue_rows[0]]]
    for y in blue_rows[1:]:
        if y == bands[-1][-1] + 1:
            bands[-1].append(y)
        else:
            bands.append([y])
    tall = [band for band in bands if len(band) >= 30]
    assert len(tall) >= 4, [len(band) for band in bands]
