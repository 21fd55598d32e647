"""Released py3xui versions (a client nobody here wrote) against the matching sandbox modes.

Each release is installed once into its own directory under the venv (`.venv/py3xui-releases/`),
never into the venv itself, and imported by a subprocess with PYTHONPATH pointing there. The
dependencies it needs at run time (pydantic, httpx, requests) come from the venv; its declared
`mypy` runtime requirement is not wanted, hence --no-deps.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sandbox.panel import V2, V3_0, V3_1, V3_4
from tests.panel_fixtures import StartPanel

RELEASES = Path(sys.prefix) / "py3xui-releases"
SCENARIO = Path(__file__).with_name("py3xui_scenario.py")
BUSY, BUSY_UUID = "operator-phone", "0b7d4c55-0000-4000-8000-000000000009"
IP = "10.1.2.3 (2026-12-07 05:00:00)"


@pytest.fixture(scope="session")
def py3xui_release() -> Callable[[str], Path]:
    def install(version: str) -> Path:
        target = RELEASES / version
        if (target / ".complete").exists():
            return target
        staging = RELEASES / f".{version}.{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        packages = [f"py3xui=={version}"]
        if importlib.util.find_spec("requests") is None:
            packages.append("requests")
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(staging), *packages],
            check=True,
        )
        (staging / ".complete").touch()
        try:
            staging.rename(target)
        except OSError:  # another run installed it meanwhile
            shutil.rmtree(staging, ignore_errors=True)
        return target

    return install


async def run_scenario(release: Path, *args: object) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(release)}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(SCENARIO),
        *map(str, args),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0, stderr.decode()[-3000:]
    result: dict[str, Any] = json.loads(stdout.decode().strip().splitlines()[-1])
    return result


@pytest.mark.parametrize(
    ("release", "version"), [("0.5.6", V2), ("0.6.0", V3_0), ("0.7.0", V3_1), ("0.7.0", V3_4)]
)
async def test_py3xui_release_against_its_panel_mode(
    start_panel: StartPanel, py3xui_release: Callable[[str], Path], release: str, version: str
) -> None:
    panel = await start_panel(version=version, base_path="/JfhUey7Ikt4Yxhf/")
    panel.state.add_clients(
        panel.inbound_id, {"clients": [{"id": BUSY_UUID, "email": BUSY, "enable": True, "subId": "ops"}]}
    )
    panel.tick({BUSY: (1000, 5000)})
    panel.state.ips[BUSY] = [IP]
    out = await run_scenario(
        py3xui_release(release), panel.url, panel.username, panel.password, panel.inbound_id, BUSY, BUSY_UUID
    )
    assert out["py3xui"] == release
    assert out["inbounds"] == [panel.inbound_id] and (out["protocol"], out["port"]) == ("vless", 443)
    assert out["got"] == {"email": "py3xui-a", "enable": True, "expiry": 1_900_000_000_000}
    renewed = panel.client("py3xui-a")
    assert renewed is not None
    assert (renewed["enable"], renewed["expiryTime"], renewed["limitIp"], renewed["tgId"]) == (
        False,
        1_910_000_000_000,
        1,
        42,
    )
    if panel.state.clients_api:
        assert out["b_limit_ip"] == 5
        assert out["by_id"] == [[BUSY, 0, 0]]  # 0.7 reads clients/list, whose counters are nested
    else:
        assert out["busy"] == [1000, 5000] and out["by_id"] == [[BUSY, 1000, 5000]]
    assert out["online"] == [BUSY]
    assert (out["ips"], out["ips_after"]) == ([IP], [])
    row = panel.state.traffic[BUSY]
    assert (row.up, row.down, row.enable) == (0, 0, True)  # reset_stats
    assert out["status"] == "running"
    assert out["emails"] == [BUSY, "py3xui-a"] and panel.client("py3xui-b") is None
    assert panel.inbound.remark == "renamed by py3xui"
