"""`GET panel/api/server/status`: the whole object the panel's status job caches (reference §6)."""

from __future__ import annotations

from typing import Any

from sandbox.panel.state import V2, V3_0, V3_1, PanelState

PANEL_VERSIONS = {V2: "2.8.10", V3_0: "3.0.2", V3_1: "3.3.1"}  # v3.4 mode: 3.4.2 and later


def server_status(state: PanelState) -> dict[str, Any]:
    status: dict[str, Any] = {
        "cpu": 3.5,
        "cpuCores": 2,
        "logicalPro": 4,
        "cpuSpeedMhz": 2400.0,
        "mem": {"current": 1024000, "total": 8192000},
        "swap": {"current": 0, "total": 0},
        "disk": {"current": 5368709120, "total": 26843545600},
        "xray": {"state": "running", "errorMsg": "", "version": "25.9.11"},
        "uptime": 345600,
        "loads": [0.15, 0.1, 0.05],
        "tcpCount": 12,
        "udpCount": 3,
        "netIO": {"up": 1024, "down": 2048},
        "netTraffic": {
            "sent": sum(r.up for r in state.traffic.values()),
            "recv": sum(r.down for r in state.traffic.values()),
        },
        "publicIP": {"ipv4": "127.0.0.1", "ipv6": "N/A"},
        "appStats": {"threads": 12, "mem": 102400, "uptime": 86400},
    }
    if state.version != V2:
        status["netIO"].update(upPackets=8, downPackets=16)
        status["netTraffic"].update(sentPackets=4000, recvPackets=8000)
        status["diskIO"] = {"read": 0, "write": 0}
        status["diskTraffic"] = {"read": 0, "write": 0}
        status["panelVersion"] = PANEL_VERSIONS.get(state.version, "3.4.2")
        status["panelGuid"] = "5f0e7b1c-3a43-4d2e-9b8e-0d6c2f1a9e11"
    return status
