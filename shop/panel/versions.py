"""The three API dialects 3x-ui has spoken since v2.4."""

from __future__ import annotations

import enum


class PanelVersion(enum.StrEnum):
    V2 = "v2"  # 2.4 - 2.9: cookie login, classic /panel/api/inbounds/* client routes
    V3_0 = "v3.0"  # CSRF token on login and every cookie POST; classic client routes
    V3_1 = "v3.1"  # /panel/api/clients/* keyed by email; inbound settings as nested objects

    @property
    def has_csrf(self) -> bool:
        return self is not PanelVersion.V2

    @property
    def clients_api(self) -> bool:
        return self is PanelVersion.V3_1
