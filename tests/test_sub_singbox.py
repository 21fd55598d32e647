"""Our sing-box output through the endpoint against the real sing-box core: strict decoding and check.

Traffic through tunnels built from it, for every transport and security: tests/test_sub_matrix.py.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from shop.models import PanelClient
from tests import vpn_cores
from tests.conftest import Database
from tests.sub_client import api_client
from tests.sub_data import make_hosts, seed_subscription
from tests.test_sub_endpoint import sub_context

BUILD_LIMIT = re.compile(r"uTLS(, which is required by reality,?)? is not included in this build")


async def singbox_body(database: Database, links: dict[str, str] | None = None) -> dict[str, object]:
    hosts = await make_hosts(database.sessions)
    seeded = await seed_subscription(database.sessions, hosts)
    if links:
        from sqlalchemy import update

        async with database.sessions() as session, session.begin():
            for kind, link in links.items():
                await session.execute(
                    update(PanelClient).where(PanelClient.host_id == hosts[kind]).values(link=link)
                )
    async with api_client(sub_context(database)) as client:
        response = await client.get(f"/sub/{seeded.token}", headers={"User-Agent": "SFA/1.12.0"})
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, object] = response.json()
    return body


async def test_every_field_decodes_in_the_real_core(sqlite_db: Database, tmp_path: Path) -> None:
    config = tmp_path / "sub.json"
    config.write_text(json.dumps(await singbox_body(sqlite_db)), encoding="utf-8")
    decoded = run_singbox("format", "-c", str(config))
    assert decoded.returncode == 0, decoded.stderr  # strict decoding: an unknown field fails here
    checked = run_singbox("check", "-c", str(config))
    # The PyPI build leaves out uTLS (needed for fingerprints and Reality); the apps' builds include it.
    assert checked.returncode == 0 or BUILD_LIMIT.search(checked.stderr), checked.stderr


async def test_check_passes_in_full_without_fingerprints(sqlite_db: Database, tmp_path: Path) -> None:
    client_id = "b831381d-6324-4d53-ad4f-8cda48b30811"
    no_fingerprint = {
        "ws": f"vless://{client_id}@de1.example.com:443?alpn=h2%2Chttp%2F1.1&encryption=none"
        "&host=cdn.example.com&path=%2Fws&security=tls&sni=de1.example.com&type=ws#x",
        "grpc": f"vless://{client_id}@fi1.example.com:443?authority=&encryption=none&mode=multi"
        "&security=tls&serviceName=grpc&sni=fi1.example.com&type=grpc#x",
        "reality": f"vless://{client_id}@pl2.example.com:80?encryption=none&host=&path=%2Fup"
        "&security=none&type=httpupgrade#x",
    }
    body = await singbox_body(sqlite_db, no_fingerprint)
    vless = [o for o in body["outbounds"] if o["type"] == "vless"]  # type: ignore[attr-defined]
    assert [o["transport"]["type"] for o in vless if "transport" in o] == ["httpupgrade", "ws", "grpc"]
    assert len(vless) == 4  # and the plain TCP one; the XHTTP server has no sing-box form
    config = tmp_path / "sub.json"
    config.write_text(json.dumps(body), encoding="utf-8")
    checked = run_singbox("check", "-c", str(config))
    assert checked.returncode == 0, checked.stderr


def run_singbox(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(vpn_cores.singbox_binary()), *args], capture_output=True, text=True, timeout=30, check=False
    )
