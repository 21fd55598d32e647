"""Drive a panel with a released py3xui, as its users do; run in a subprocess by test_panel_py3xui.

Arguments: host (with base path), username, password, inbound id, the email of a client that has
traffic, its UUID. Prints one JSON object with what py3xui read back; any exception fails the run.
"""

from __future__ import annotations

import json
import sys
from importlib.metadata import version
from typing import Any

import py3xui
from py3xui import Client

A, B = "0b7d4c55-0000-4000-8000-00000000000a", "0b7d4c55-0000-4000-8000-00000000000b"
VISION = "xtls-rprx-vision"
EXPIRY, RENEWED = 1_900_000_000_000, 1_910_000_000_000


def main() -> None:
    host, username, password, inbound_arg, busy_email, busy_uuid = sys.argv[1:7]
    inbound_id = int(inbound_arg)
    clients_api = version("py3xui") >= "0.7"
    out: dict[str, Any] = {"py3xui": version("py3xui")}
    api = py3xui.Api(host.rstrip("/"), username, password)
    api.login()
    out["inbounds"] = [i.id for i in api.inbound.get_list()]
    inbound = api.inbound.get_by_id(inbound_id)
    out["protocol"], out["port"] = inbound.protocol, inbound.port
    new = [
        Client(
            id=A, email="py3xui-a", enable=True, sub_id="pysuba", expiry_time=EXPIRY, flow=VISION, tg_id=42
        ),
        Client(id=B, email="py3xui-b", enable=True, sub_id="pysubb"),
    ]
    api.client.add(inbound_id, new)
    got = api.client.get_by_email("py3xui-a")
    out["got"] = {"email": got.email, "enable": got.enable, "expiry": got.expiry_time}
    # A renewal that switches the client off, written as the library's docs show.
    renewed = Client(
        id=A,
        email="py3xui-a",
        enable=False,
        inbound_id=inbound_id,
        sub_id="pysuba",
        expiry_time=RENEWED,
        flow=VISION,
        tg_id=42,
        limit_ip=1,
    )
    api.client.update(A, renewed)
    if clients_api:  # 0.7 reads the record and writes it back: the write type must take it
        record = api.client.get_by_email("py3xui-b")
        record.limit_ip = 5
        api.client.update(record.uuid, record)
        out["b_limit_ip"] = api.client.get_by_email("py3xui-b").limit_ip
    busy = api.client.get_by_email(busy_email)
    out["busy"] = [busy.up, busy.down]
    out["by_id"] = [[c.email, c.up, c.down] for c in api.client.get_traffic_by_id(busy_uuid)]
    out["online"] = api.client.online()
    out["ips"] = api.client.get_ips(busy_email)
    api.client.reset_ips(busy_email)
    out["ips_after"] = api.client.get_ips(busy_email)
    api.client.reset_stats(inbound_id, busy_email)
    api.client.delete(inbound_id, B)
    out["status"] = api.server.get_status().xray.state
    inbound = api.inbound.get_by_id(inbound_id)
    inbound.remark = "renamed by py3xui"
    api.inbound.update(inbound_id, inbound)
    out["emails"] = sorted(c.email for c in api.inbound.get_by_id(inbound_id).settings.clients)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
