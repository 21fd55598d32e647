"""One-tap import: each VPN app's deep link for a subscription URL (reference/subscription-clients.md §5).
Telegram buttons only open http(s) links, so the bot links to /import/<app>/<token>, which redirects here."""

from __future__ import annotations

from urllib.parse import quote

IMPORT_LINKS = {
    "happ": "happ://add/{url}",
    "v2raytun": "v2raytun://import/{url}",
    "hiddify": "hiddify://import/{url}#{name}",
    "v2rayng": "v2rayng://install-sub?url={enc}&name={name}",
    "streisand": "streisand://import/{url}#{name}",
}


def import_link(app: str, subscription_url: str, name: str) -> str:
    """The app's import link (KeyError for an unknown app)."""
    return IMPORT_LINKS[app].format(
        url=subscription_url, enc=quote(subscription_url, safe=""), name=quote(name)
    )
