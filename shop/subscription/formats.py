"""Which body a request gets: `?format=`, then a browser's `Accept`, then the app's User-Agent.

Precedence and patterns follow `subscription-clients.md` §3 (Remnawave's and Marzban's rules).
"""

from __future__ import annotations

import enum
import re

from shop.subscription.render_singbox import Schema


class Format(enum.StrEnum):
    BASE64 = "base64"
    PLAIN = "plain"
    CLASH = "clash"
    SINGBOX = "singbox"
    XRAY_JSON = "xray-json"
    HTML = "html"


class UnknownFormat(ValueError):
    pass


_CLASH = re.compile(
    r"^(?:FlClash|FlClashX|Flowvy|[Cc]lash-[Vv]erge|[Kk]oala-[Cc]lash|[Cc]lash-?[Mm]eta|[Mm]urge|"
    r"[Cc]lashX [Mm]eta|[Mm]ihomo|[Cc]lash-nyanpasu|clash\.meta|prizrak-box|[Ss]tash|[Cc]lash)"
)
_SINGBOX = re.compile(r"^(?:sfa|sfi|sfm|sft|karing|sing-?box)", re.IGNORECASE)
# Xray clients that import a full Xray JSON config; versions below these read only links.
_XRAY_ALWAYS = re.compile(r"^(?:[Ss]treisand|Happ/|INCY/|V2Box|io\.github\.saeeddev94\.xray/)")
_XRAY_VERSIONED = (
    (re.compile(r"^v2rayNG/(\d+)\.(\d+)\.(\d+)"), (1, 8, 29)),
    (re.compile(r"^v2rayN/(\d+)\.(\d+)"), (6, 40)),
)
_APP_UA = re.compile(
    r"^(?:[Hh]iddify|v2ray|[Hh]app|[Ss]treisand|v2[Rr]ay[Tt]un|V2Box|[Ss]hadowrocket|FoXray|NekoBox|INCY)"
)


def _xray_json_capable(user_agent: str) -> bool:
    if _XRAY_ALWAYS.match(user_agent):
        return True
    for pattern, minimum in _XRAY_VERSIONED:
        found = pattern.match(user_agent)
        if found:
            return tuple(int(part) for part in found.groups()) >= minimum
    return False


def _is_app(user_agent: str) -> bool:
    return bool(_CLASH.match(user_agent) or _SINGBOX.match(user_agent) or _APP_UA.match(user_agent))


def choose_format(explicit: str | None, user_agent: str, accept: str, xray_json_for_apps: bool) -> Format:
    if explicit is not None:
        try:
            return Format(explicit.strip().lower())
        except ValueError:
            raise UnknownFormat(explicit) from None
    if "text/html" in accept.lower() and not _is_app(user_agent):
        return Format.HTML
    if _CLASH.match(user_agent):
        return Format.CLASH
    if _SINGBOX.match(user_agent):
        return Format.SINGBOX
    if xray_json_for_apps and _xray_json_capable(user_agent):
        return Format.XRAY_JSON
    return Format.BASE64


# The sing-box apps carry their core's version: "SFA/1.11.4 (...; sing-box 1.11.4)", "sing-box 1.10.7".
_SINGBOX_CORE = re.compile(r"sing-box[/ ]v?(\d+)\.(\d+)", re.IGNORECASE)
_SINGBOX_APP = re.compile(r"^(?:SF[AIMT])/v?(\d+)\.(\d+)")
# Hiddify names only the app. Assumed (not checked against its builds): cores of 2.x predate 1.11,
# of 4.x predate 1.12; 5.x ("hiddify-sing-box v5") reads the current schema.
_HIDDIFY = re.compile(r"^[Hh]iddify(?:[Nn]ext)?/v?(\d+)\.")


def singbox_schema(user_agent: str) -> Schema:
    """The newest sing-box schema the requesting core understands; the current one if it does not say."""
    found = _SINGBOX_CORE.search(user_agent) or _SINGBOX_APP.match(user_agent)
    if found:
        version = (int(found.group(1)), int(found.group(2)))
        if version < (1, 11):
            return Schema.V1_10  # also for cores older than 1.10: the oldest schema we write
        return Schema.V1_11 if version < (1, 12) else Schema.CURRENT
    hiddify = _HIDDIFY.match(user_agent)
    if hiddify:
        major = int(hiddify.group(1))
        return Schema.V1_10 if major < 4 else Schema.V1_11 if major < 5 else Schema.CURRENT
    return Schema.CURRENT
