"""`vpnshop demo` as a user runs it: a real process on free ports, read by its printed URLs."""

from __future__ import annotations

import asyncio
import base64
import os
import re
import signal
import sys
from pathlib import Path

import httpx
from temporalio.client import WorkflowExecutionStatus

from shop.runtime.temporal import connect, free_port, port_open


async def _line(process: asyncio.subprocess.Process, label: str, seen: list[str]) -> str:
    """The value printed after `label:`, waiting for it (the output so far is in the failure)."""
    assert process.stdout is not None
    while True:
        raw = await process.stdout.readline()
        assert raw, f"the demo exited ({process.returncode}) before printing {label!r}: {seen}"
        line = raw.decode().strip()
        seen.append(line)
        match = re.match(rf"{label}:\s+(\S+)", line)
        if match:
            return match.group(1)


async def test_demo_buys_a_subscription_and_stops_cleanly(tmp_path: Path) -> None:
    ports = {name: str(free_port()) for name in ("API_PORT", "TEMPORAL_PORT", "TEMPORAL_UI_PORT")}
    env = os.environ | ports | {"DATA_DIR": str(tmp_path / "demo")}
    with (tmp_path / "demo.log").open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "shop.runtime.cli",
            "demo",
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=log,
        )
        try:
            seen: list[str] = []
            async with asyncio.timeout(90):
                sub_url = await _line(process, "subscription URL", seen)
                ui_url = await _line(process, "payment workflow", seen)
                proxy_link = await _line(process, "telegram proxy", seen)
                connect_url = await _line(process, "proxy connect", seen)
            assert sub_url.startswith(f"http://127.0.0.1:{ports['API_PORT']}/sub/")
            assert ui_url.startswith(
                f"http://127.0.0.1:{ports['TEMPORAL_UI_PORT']}/namespaces/vpnshop/workflows/"
            )
            async with httpx.AsyncClient(timeout=10) as http:
                sub = await http.get(sub_url, headers={"User-Agent": "v2rayNG/1.8.19"})
                ui = await http.get(ui_url)
                opened = await http.get(connect_url)  # the proxy's Connect button: our https redirect
            assert sub.status_code == 200 and ui.status_code == 200
            assert proxy_link.startswith("tg://proxy?server=") and "&secret=ee" in proxy_link
            assert opened.status_code == 302 and opened.headers["location"] == proxy_link
            links = base64.b64decode(sub.text).decode().splitlines()
            assert links and all(link.startswith("vless://") for link in links)
            workflow_id, run_id = ui_url.split("/workflows/")[1].split("/")[:2]
            assert workflow_id.startswith("payment:")
            client = await connect(f"127.0.0.1:{ports['TEMPORAL_PORT']}", "vpnshop")
            described = await client.get_workflow_handle(workflow_id, run_id=run_id).describe()
            assert described.status is WorkflowExecutionStatus.COMPLETED
        finally:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
            async with asyncio.timeout(30):
                code = await process.wait()
    assert code == 0, (tmp_path / "demo.log").read_text()[-2000:]
    assert not port_open(int(ports["TEMPORAL_PORT"])), "the embedded Temporal server stopped with the demo"
    assert not port_open(int(ports["API_PORT"]))


async def test_demo_refuses_a_data_dir_holding_another_shop(tmp_path: Path) -> None:
    (tmp_path / "vpnshop.db").write_bytes(b"a real shop's database")
    env = os.environ | {"DATA_DIR": str(tmp_path), "API_PORT": str(free_port())}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "shop.runtime.cli", "demo", env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _out, err = await process.communicate()
    assert process.returncode == 1
    assert "holds a shop database the demo did not create" in err.decode()
    assert (tmp_path / "vpnshop.db").read_bytes() == b"a real shop's database"
