"""One-tap import: each VPN app's deep link for a subscription URL (reference/subscription-clients.md §5).

The /sub page links to them directly; Telegram buttons only open http(s) links, so the bot links
to /import/<token>/<app>, which redirects here.
"""

from __future__ import annotations

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
