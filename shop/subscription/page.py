"""The page a browser gets for `/sub/<token>`: status, expiry, QR, app buttons, instructions."""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from html import escape
from pathlib import Path
from string import Template

import qrcode
import qrcode.image.svg

from shop.subscription.content import Status
from shop.subscription.deeplinks import app_links
from shop.subscription.texts import t

_HERE = Path(__file__).parent
_SHELL = Template((_HERE / "shell.html").read_text(encoding="utf-8"))
_SUBSCRIPTION = Template((_HERE / "subscription.html").read_text(encoding="utf-8"))
_NOT_FOUND = Template((_HERE / "not_found.html").read_text(encoding="utf-8"))
PLATFORMS = (
    ("android", "Android"),
    ("ios", "iOS"),
    ("windows", "Windows"),
    ("macos", "macOS"),
    ("linux", "Linux"),
)


@dataclass(frozen=True)
class PageFacts:
    shop: str
    url: str  # the subscription URL the QR and the buttons carry
    status: Status
    expire: datetime
    now: datetime
    used_bytes: int
    servers: int
    renew_url: str
    support_url: str


@lru_cache(maxsize=1024)
def qr_svg(data: str) -> str:
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, border=2, box_size=10)
    buffer = io.BytesIO()
    image.save(buffer)
    svg = buffer.getvalue().decode()
    return svg[svg.index("<svg") :]  # inline: drop the XML declaration


def human_bytes(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.2f} {unit}"
        value /= 1024
    return f"{value:.2f} TB"


def _facts(lang: str, facts: PageFacts) -> str:
    date = facts.expire.strftime("%d.%m.%Y %H:%M UTC")
    items = []
    if facts.status in {Status.ACTIVE, Status.PENDING}:
        days = max(0, math.ceil((facts.expire - facts.now).total_seconds() / 86400))
        items += [t(lang, "expires_on", date=date), t(lang, "days_left", days=days)]
        items.append(t(lang, "servers_count", count=facts.servers))
    elif facts.status is Status.EXPIRED:
        items.append(t(lang, "expired_on", date=date))
    items.append(t(lang, "traffic_used", used=human_bytes(facts.used_bytes)))
    return "".join(f"<li>{escape(item)}</li>" for item in items)


def _action_buttons(lang: str, facts: PageFacts) -> str:
    buttons = []
    if facts.status is not Status.ACTIVE and facts.renew_url:
        buttons.append(("renew", t(lang, "renew_button"), facts.renew_url))
    if facts.support_url:
        buttons.append(("support", t(lang, "support_button"), facts.support_url))
    return "".join(
        f'<a class="button {kind}" href="{escape(href)}">{escape(label)}</a>' for kind, label, href in buttons
    )


def render_page(lang: str, facts: PageFacts) -> str:
    buttons = "".join(
        f'<a class="button app" href="{escape(href)}">{escape(label)}</a>'
        for label, href in app_links(facts.url, facts.shop)
    )
    howto = "".join(
        f"<details{' open' if index == 0 else ''}><summary>{name}</summary>"
        f"<p>{escape(t(lang, f'howto_{platform}'))}</p></details>"
        for index, (platform, name) in enumerate(PLATFORMS)
    )
    title = escape(t(lang, "page_title", shop=facts.shop))
    content = _SUBSCRIPTION.substitute(
        title=title,
        status_class=facts.status.value,
        status=escape(t(lang, f"status_{facts.status.value}")),
        facts=_facts(lang, facts),
        renew=_action_buttons(lang, facts),
        qr_svg=qr_svg(facts.url),
        qr_caption=escape(t(lang, "qr_caption")),
        link=escape(facts.url),
        copy=escape(t(lang, "copy_link")),
        copied=escape(t(lang, "copied")),
        add_to_app=escape(t(lang, "add_to_app")),
        buttons=buttons,
        how_to_connect=escape(t(lang, "how_to_connect")),
        howto=howto,
    )
    return _SHELL.substitute(lang=lang, title=title, content=content)


@lru_cache(maxsize=4)
def render_not_found(lang: str) -> str:
    title = escape(t(lang, "not_found_title"))
    content = _NOT_FOUND.substitute(title=title, text=escape(t(lang, "not_found_text")))
    return _SHELL.substitute(lang=lang, title=title, content=content)
