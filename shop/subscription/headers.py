"""Response headers the apps read (`subscription-clients.md` §2): traffic, expiry, title, links."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

HAPP_TITLE_LIMIT = 25  # Happ cuts longer titles
ANNOUNCE_LIMIT = 200


@dataclass(frozen=True)
class ProfileInfo:
    title: str
    update_interval_hours: int
    support_url: str
    page_url: str


def encoded(text: str) -> str:
    """`base64:` form: header values must be Latin-1, titles are often Cyrillic or emoji."""
    return "base64:" + base64.b64encode(text.encode()).decode("ascii")


def userinfo(upload: int, download: int, total: int, expire: datetime) -> str:
    return f"upload={upload}; download={download}; total={total}; expire={int(expire.timestamp())}"


def content_disposition(title: str) -> str:
    ascii_name = re.sub(r"[^A-Za-z0-9._-]+", "_", title).strip("_") or "subscription"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(title, safe='')}"


def subscription_headers(
    profile: ProfileInfo, upload: int, download: int, expire: datetime, announce: str = ""
) -> dict[str, str]:
    headers = {
        "Subscription-Userinfo": userinfo(upload, download, 0, expire),
        "Profile-Title": encoded(profile.title[:HAPP_TITLE_LIMIT]),
        "Profile-Update-Interval": str(profile.update_interval_hours),
        "Profile-Web-Page-Url": profile.page_url,
        "Content-Disposition": content_disposition(profile.title),
        "Cache-Control": "no-store",
    }
    if profile.support_url:
        headers["Support-Url"] = profile.support_url
    if announce:
        headers["Announce"] = encoded(announce[:ANNOUNCE_LIMIT])
    return headers
