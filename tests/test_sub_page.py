"""The browser page: content in ru and en, and what headless Chromium actually draws."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import re
import shutil
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import uvicorn
from PIL import Image

from api.app import create_app
from shop.context import AppContext
from shop.runtime.temporal import free_port
from shop.subscription.deeplinks import PLATFORM_APPS, import_link
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
    assert "https://play.google.com/store/apps/details?id=com.happproxy" in en.text
    # The visitor's platform (an Android browser here) comes first and open; the rest follow.
    assert re.findall(r'data-platform="(\w+)"', en.text) == ["android", "ios", "windows", "macos", "linux"]
    assert '<details data-platform="android" open>' in en.text
    assert "Установить" in ru.text and "Install" in en.text
    assert f'<time datetime="{seeded.expires_at.isoformat()}">' in en.text


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


LOGO = (
    "data:image/svg+xml;base64,"
    + base64.b64encode(
        b'<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64">'
        b'<rect width="64" height="64" rx="12" fill="#e67e22"/></svg>'
    ).decode()
)
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 1,
    "user_agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
}
DESKTOP = {
    "viewport": {"width": 1280, "height": 900},
    "user_agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36",
}
# (device, its platform, language, time zone): every pair of width and language, two zones.
VISITS = [
    ("phone", "ios", "ru", "Asia/Vladivostok"),
    ("phone", "ios", "en", "America/New_York"),
    ("desktop", "windows", "en", "Asia/Tokyo"),
    ("desktop", "windows", "ru", "Europe/Moscow"),
]


def dark(pixel: Any) -> bool:
    return max(pixel[:3]) < 40


def local_time_text(moment: datetime, zone: str, lang: str) -> list[str]:
    """Parts of what the browser must show for `moment` in `zone`: day, year and the clock time."""
    local = moment.astimezone(ZoneInfo(zone))
    clock = f"{local:%H:%M}" if lang == "ru" else f"{local:%I:%M} {local:%p}"
    return [str(local.day), str(local.year), clock]


@pytest.mark.browser
@pytest.mark.parametrize(("device", "platform", "lang", "zone"), VISITS, ids=lambda v: str(v))
async def test_chromium_shows_local_time_platform_apps_renew_and_the_qr(
    sqlite_db: Database, tmp_path: Path, device: str, platform: str, lang: str, zone: str
) -> None:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("chromium is not installed (.ci/run installs Debian's chromium package)")
    from playwright.async_api import async_playwright

    seeded = await seed_subscription(sqlite_db.sessions, await make_hosts(sqlite_db.sessions))
    assert seeded.expires_at is not None
    ctx = sub_context(
        sqlite_db, shop_name="Ночной VPN", shop_logo_url=LOGO, sub_renew_url="",
        telegram_bot_username="@example_shop_bot",
    )  # fmt: skip
    options = PHONE if device == "phone" else DESKTOP
    width = options["viewport"]["width"]  # type: ignore[index]
    async with serving(ctx) as base, async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            context = await browser.new_context(locale=lang, timezone_id=zone, **options)
            page = await context.new_page()
            await page.goto(f"{base}/sub/{seeded.token}")
            await page.screenshot(path=tmp_path / f"{device}-{lang}.png", full_page=True)
            shown = await page.text_content("#status time")
            first = await page.eval_on_selector("#apps details", "d => [d.dataset.platform, d.open]")
            rows = await page.eval_on_selector_all(
                "#apps details[open] .app-row",
                "rows => rows.map(r => [r.querySelector('.name').textContent,"
                " r.querySelector('.store').href, r.querySelector('.app.button')?.href ?? null])",
            )
            renew = await page.get_attribute("a.renew", "href")
            support = await page.get_attribute("a.support", "href")
            logo_width = await page.eval_on_selector("img.logo", "img => img.naturalWidth")
            brand = await page.text_content(".brand")
            overflow = await page.evaluate("document.documentElement.scrollWidth")
            boxes = {name: await page.locator(name).bounding_box() for name in ("#status", "#qr", "#apps")}
            visible = [await page.locator(sel).first.is_visible() for sel in ("a.renew", "#apps .store")]
            qr = tmp_path / f"qr-{device}-{lang}.png"
            await page.locator("#qr svg").screenshot(path=qr)
        finally:
            await browser.close()
    assert shown is not None and "UTC" not in shown
    for part in local_time_text(seeded.expires_at, zone, lang):
        assert part in shown, (part, shown)
    assert first == [platform, True]
    expected = PLATFORM_APPS[platform]
    assert [row[0] for row in rows] == [app.title for app in expected]
    assert [row[1] for row in rows] == [app.store for app in expected]
    url = f"https://vpn.example.com/sub/{seeded.token}"
    for (_, _, add), app in zip(rows, expected, strict=True):
        assert add == (import_link(app.app, url, "Мой VPN 🚀") if app.app else None)  # the profile title
    assert renew == "https://t.me/example_shop_bot?start=renew"
    assert support == "https://t.me/example_support"
    assert visible == [True, True]
    assert logo_width == 64 and brand is not None and brand.strip() == "Ночной VPN"
    assert overflow <= width  # nothing wider than the screen
    status, qr_box, apps = boxes["#status"], boxes["#qr"], boxes["#apps"]
    assert status is not None and qr_box is not None and apps is not None
    if device == "phone":  # one column: status, QR, apps
        assert status["y"] < qr_box["y"] < apps["y"]
    else:  # two columns: the apps beside status and QR
        assert apps["x"] >= status["x"] + status["width"] and abs(apps["y"] - status["y"]) < 2
    _assert_qr(qr)


def _assert_qr(shot: Path) -> None:
    """The QR as drawn: a square of dark modules about 240 px wide, neither filled nor empty."""
    image = Image.open(shot).convert("RGB")
    pixels = image.load()
    assert pixels is not None
    width, height = image.size
    points = [(x, y) for y in range(height) for x in range(width) if dark(pixels[x, y])]
    xs, ys = [x for x, _ in points], [y for _, y in points]
    side_x, side_y = max(xs) - min(xs), max(ys) - min(ys)
    assert 200 <= side_x <= 260 and abs(side_x - side_y) <= 4, (side_x, side_y)
    share = len(points) / ((side_x + 1) * (side_y + 1))
    assert 0.3 < share < 0.7, share  # modules, not a filled box or a stray line
