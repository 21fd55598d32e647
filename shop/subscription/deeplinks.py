"""One-tap import: each VPN app's deep link for a subscription URL (reference/subscription-clients.md §5).

The /sub page links to them directly; Telegram buttons only open http(s) links, so the bot links
to /import/<token>/<app>, which redirects here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote


@dataclass(frozen=True)
class App:
    key: str
    title: str
    template: str  # {url}: the subscription URL; {enc}: it percent-encoded; {clash}: its Clash form


APPS = (
    App("happ", "Happ", "happ://add/{url}"),
    App("v2raytun", "v2RayTun", "v2raytun://import/{url}"),
    App("hiddify", "Hiddify", "hiddify://import/{url}#{name}"),
    App("v2rayng", "v2rayNG", "v2rayng://install-sub?url={enc}&name={name}"),
    App("streisand", "Streisand", "streisand://import/{url}#{name}"),
    App("clash", "Clash", "clash://install-config?url={clash}&name={name}"),
)
IMPORT_LINKS = {app.key: app for app in APPS}
RENEW_START = "renew"  # /start payload: the bot answers with its plans (the /sub page's Renew button)


def import_link(app: str, subscription_url: str, name: str) -> str:
    """The app's import link (KeyError for an unknown app)."""
    return IMPORT_LINKS[app].template.format(
        url=subscription_url,
        enc=quote(subscription_url, safe=""),
        clash=quote(f"{subscription_url}?format=clash", safe=""),
        name=quote(name, safe=""),
    )


def app_links(subscription_url: str, name: str) -> list[tuple[str, str]]:
    """(title, import link) for every app, in the order the page shows them."""
    return [(app.title, import_link(app.key, subscription_url, name)) for app in APPS]


@dataclass(frozen=True)
class StoreApp:
    title: str
    app: str | None  # its key in IMPORT_LINKS; None: the app takes the link only by paste
    store: str  # store page, or the official download page


GITHUB_HIDDIFY = "https://github.com/hiddify/hiddify-app/releases/latest"
HAPP_APP_STORE = "https://apps.apple.com/app/happ-proxy-utility/id6504287215"
CLASH_VERGE = StoreApp(
    "Clash Verge Rev", "clash", "https://github.com/clash-verge-rev/clash-verge-rev/releases/latest"
)
V2RAYTUN = StoreApp("v2RayTun", "v2raytun", "https://v2raytun.com/")
# The apps we suggest per platform (bot instructions and the /sub page), best first.
PLATFORM_APPS: dict[str, tuple[StoreApp, ...]] = {
    "android": (
        StoreApp("Happ", "happ", "https://play.google.com/store/apps/details?id=com.happproxy"),
        StoreApp("v2rayNG", "v2rayng", "https://github.com/2dust/v2rayNG/releases/latest"),
        V2RAYTUN,
    ),
    "ios": (
        StoreApp("Happ", "happ", HAPP_APP_STORE),
        StoreApp("Streisand", "streisand", "https://apps.apple.com/app/streisand/id6450534064"),
        V2RAYTUN,
    ),
    "windows": (
        StoreApp("Hiddify", "hiddify", GITHUB_HIDDIFY),
        StoreApp("v2rayN", None, "https://github.com/2dust/v2rayN/releases/latest"),
        CLASH_VERGE,
    ),
    "macos": (
        StoreApp("Happ", "happ", HAPP_APP_STORE),
        StoreApp("Hiddify", "hiddify", GITHUB_HIDDIFY),
        CLASH_VERGE,
    ),
    "linux": (StoreApp("Hiddify", "hiddify", GITHUB_HIDDIFY), CLASH_VERGE),
}
# Order matters: iPadOS and Android builds also say "Linux" or "Mac OS X".
_PLATFORM_UA = (
    ("android", re.compile(r"Android", re.IGNORECASE)),
    ("ios", re.compile(r"iPhone|iPad|iPod", re.IGNORECASE)),
    ("windows", re.compile(r"Windows", re.IGNORECASE)),
    ("macos", re.compile(r"Macintosh|Mac OS X", re.IGNORECASE)),
    ("linux", re.compile(r"Linux|X11|CrOS", re.IGNORECASE)),
)


def platform_of(user_agent: str) -> str | None:
    """The visitor's platform (a PLATFORM_APPS key) from a browser's User-Agent; None if unknown."""
    return next((name for name, pattern in _PLATFORM_UA if pattern.search(user_agent)), None)


def platforms_for(user_agent: str) -> list[str]:
    """Every platform, the visitor's first."""
    first = platform_of(user_agent)
    return sorted(PLATFORM_APPS, key=lambda name: name != first)


def bot_link(bot_username: str, start: str) -> str:
    """The t.me link that opens the shop's bot with a /start payload."""
    return f"https://t.me/{bot_username.lstrip('@')}?start={start}"


def renew_url(explicit: str, bot_username: str) -> str:
    """Where "Renew" leads: SUB_RENEW_URL when set, else the bot's plans; "" when neither is known."""
    return explicit or (bot_link(bot_username, RENEW_START) if bot_username else "")
