"""The page a browser gets for `/sub/<token>`: status, expiry, QR, apps, renew and support.

Times are written in UTC and rewritten by the page's script into the browser's time zone; the
visitor's platform (from the User-Agent) comes first, each app with its store link and one-tap import.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from html import escape
from pathlib import Path
from string import Template

import qrcode
import qrcode.image.svg

from shop.subscription.content import Status
from shop.subscription.deeplinks import PLATFORM_APPS, import_link, platforms_for
from shop.subscription.texts import t

_HERE = Path(__file__).parent
_SHELL = Template((_HERE / "shell.html").read_text(encoding="utf-8"))
_SUBSCRIPTION = Template((_HERE / "subscription.html").read_text(encoding="utf-8"))
_NOT_FOUND = Template((_HERE / "not_found.html").read_text(encoding="utf-8"))
PLATFORM_NAMES = {
    "android": "Android",
    "ios": "iOS",
    "windows": "Windows",
    "macos": "macOS",
    "linux": "Linux",
}


@dataclass(frozen=True)
class PageFacts:
    shop: str  # SHOP_NAME: the brand on the page
    profile: str  # the profile name the apps get on import (SUB_PROFILE_TITLE or SHOP_NAME)
    url: str  # the subscription URL the QR and the buttons carry
    status: Status
    expire: datetime
    now: datetime
    used_bytes: int
    servers: int
    renew_url: str
    support_url: str
    logo_url: str = ""
    user_agent: str = ""  # the browser's: its platform's apps come first


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


def _local_time(moment: datetime) -> str:
    """UTC in the markup; the page's script shows it in the browser's time zone and language."""
    utc = moment.astimezone(UTC)
    return f'<time datetime="{utc.isoformat()}">{utc.strftime("%d.%m.%Y %H:%M")} UTC</time>'


def _facts(lang: str, facts: PageFacts) -> str:
    date = "\x00"  # escaped text around the time element, which is markup
    items = []
    if facts.status in {Status.ACTIVE, Status.PENDING}:
        days = max(0, math.ceil((facts.expire - facts.now).total_seconds() / 86400))
        items += [t(lang, "expires_on", date=date), t(lang, "days_left", days=days)]
        items.append(t(lang, "servers_count", count=facts.servers))
    elif facts.status is Status.EXPIRED:
        items.append(t(lang, "expired_on", date=date))
    items.append(t(lang, "traffic_used", used=human_bytes(facts.used_bytes)))
    when = _local_time(facts.expire)
    return "".join(f"<li>{escape(item).replace(date, when)}</li>" for item in items)


def _action_buttons(lang: str, facts: PageFacts) -> str:
    buttons = []
    if facts.renew_url:
        buttons.append(("renew", t(lang, "renew_button"), facts.renew_url))
    if facts.support_url:
        buttons.append(("support", t(lang, "support_button"), facts.support_url))
    links = "".join(
        f'<a class="button {kind}" href="{escape(href)}">{escape(label)}</a>' for kind, label, href in buttons
    )
    return f'<div class="actions">{links}</div>' if links else ""


def _apps(lang: str, facts: PageFacts) -> str:
    sections = []
    for index, platform in enumerate(platforms_for(facts.user_agent)):
        rows = []
        for app in PLATFORM_APPS[platform]:
            install = f'<a class="button store" href="{escape(app.store)}">{escape(t(lang, "install"))}</a>'
            add = "<span></span>"  # keeps Install in its column for apps taking the link only by paste
            if app.app:
                href = import_link(app.app, facts.url, facts.profile)
                add = f'<a class="button app" href="{escape(href)}">{escape(t(lang, "add"))}</a>'
            rows.append(
                f'<div class="app-row"><span class="name">{escape(app.title)}</span>{install}{add}</div>'
            )
        sections.append(
            f'<details data-platform="{platform}"{" open" if index == 0 else ""}>'
            f"<summary>{PLATFORM_NAMES[platform]}</summary>"
            f"<p>{escape(t(lang, f'howto_{platform}'))}</p>{''.join(rows)}</details>"
        )
    return "".join(sections)


def _brand(facts: PageFacts) -> str:
    logo = f'<img class="logo" src="{escape(facts.logo_url)}" alt="">' if facts.logo_url else ""
    return f'<header class="brand">{logo}<span>{escape(facts.shop)}</span></header>'


def render_page(lang: str, facts: PageFacts) -> str:
    title = escape(t(lang, "page_title", shop=facts.shop))
    content = _SUBSCRIPTION.substitute(
        brand=_brand(facts),
        title=escape(t(lang, "page_heading")),
        status_class=facts.status.value,
        status=escape(t(lang, f"status_{facts.status.value}")),
        facts=_facts(lang, facts),
        actions=_action_buttons(lang, facts),
        qr_svg=qr_svg(facts.url),
        qr_caption=escape(t(lang, "qr_caption")),
        link=escape(facts.url),
        copy=escape(t(lang, "copy_link")),
        copied=escape(t(lang, "copied")),
        add_to_app=escape(t(lang, "add_to_app")),
        apps=_apps(lang, facts),
    )
    return _SHELL.substitute(lang=lang, title=title, content=content)


@lru_cache(maxsize=4)
def render_not_found(lang: str) -> str:
    title = escape(t(lang, "not_found_title"))
    content = _NOT_FOUND.substitute(title=title, text=escape(t(lang, "not_found_text")))
    return _SHELL.substitute(lang=lang, title=title, content=content)
