"""Hosts: adding checks the panel, secrets are sealed, deleting cleans the panel first; the CLI."""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from sandbox.panel import V2, V3_0, V3_1
from sandbox.panel.state import reality_stream
from shop.access import ledger
from shop.access.hosts import HostError, HostService, parse_input
from shop.access.provisioning import Provisioner
from shop.context import AppContext
from shop.crypto import Sealer
from shop.models import GrantKind, Host, PanelClient
from shop.panel.pool import PanelPool
from tests.factories import subscriber
from tests.panel_fixtures import TEST_KEY, StartPanel, add_sandbox_host


def service(ctx: AppContext) -> HostService:
    return HostService(ctx.sessions, Sealer.from_settings(ctx.settings), timeout=2.0)


async def host_count(ctx: AppContext) -> int:
    async with ctx.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Host)) or 0)


async def test_add_seals_secrets_and_checks_the_inbound(
    panel_ctx: AppContext, start_panel: StartPanel
) -> None:
    panel = await start_panel(version=V3_0, base_path="/secret/")
    host = await add_sandbox_host(panel_ctx, panel, name="de-1", password=panel.password)
    async with panel_ctx.sessions() as session:
        stored = await session.get(Host, host.id)
    assert stored is not None and stored.panel_url == panel.url
    assert panel.password not in stored.password_encrypted
    assert Sealer.from_settings(panel_ctx.settings).open(stored.password_encrypted) == panel.password


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"password": "wrong"}, "cannot log in to the panel"),
        ({"inbound_id": 42}, "inbound 42 does not exist"),
        ({"inbound_id": "vmess"}, "is vmess, not VLESS"),
        ({"panel_url": "ftp://x"}, "invalid panel_url"),
        ({"panel_url": "http://127.0.0.1:1/"}, "panel unreachable"),
        ({"totp_secret": "not base32!"}, "invalid totp_secret"),
        ({"inbound_id": "reality-ws"}, "REALITY over ws, which Xray cannot run"),
        ({"username": "", "password": ""}, "--username and --password, or --api-token"),
    ],
)
async def test_add_refuses_bad_input_and_changes_nothing(
    panel_ctx: AppContext, start_panel: StartPanel, changes: dict[str, Any], message: str
) -> None:
    panel = await start_panel(version=V2)
    if changes.get("inbound_id") == "vmess":
        changes = {"inbound_id": panel.state.add_inbound(protocol="vmess", port=8443, remark="vm").id}
    if changes.get("inbound_id") == "reality-ws":
        stream = {**reality_stream(), "network": "ws", "wsSettings": {"path": "/ws"}}
        changes = {"inbound_id": panel.state.add_inbound(port=8443, stream=stream).id}
    with pytest.raises(HostError, match=message):
        await add_sandbox_host(panel_ctx, panel, **changes)
    assert await host_count(panel_ctx) == 0


async def test_names_are_unique_and_edits_are_checked(panel_ctx: AppContext, start_panel: StartPanel) -> None:
    panel = await start_panel(version=V3_1)
    await add_sandbox_host(panel_ctx, panel, name="nl")
    with pytest.raises(HostError, match="already exists"):
        await add_sandbox_host(panel_ctx, panel, name="nl")
    hosts = service(panel_ctx)
    with pytest.raises(HostError, match="cannot log in"):
        await hosts.edit("nl", {"password": "wrong"})
    assert (
        Sealer.from_settings(panel_ctx.settings).open((await hosts.get("nl")).password_encrypted) == "admin"
    )
    edited = await hosts.edit("nl", {"flag": "🇳🇱", "public_address": "nl.example.com", "name": "nl-1"})
    assert (edited.name, edited.flag, edited.public_address) == ("nl-1", "🇳🇱", "nl.example.com")
    with pytest.raises(HostError, match="no host named"):
        await hosts.set_enabled("nl", False)
    assert (await hosts.set_enabled("nl-1", False)).enabled is False


async def test_delete_removes_clients_first_and_keeps_the_host_when_the_panel_fails(
    panel_ctx: AppContext, start_panel: StartPanel
) -> None:
    ctx = panel_ctx
    panels = {v: await start_panel(version=v) for v in (V2, V3_1)}
    hosts = {v: await add_sandbox_host(ctx, p, name=v) for v, p in panels.items()}
    pool = PanelPool(lambda: Sealer.from_settings(ctx.settings), 2.0)
    provisioner = Provisioner(ctx.sessions, pool, "vpnshop")
    for telegram_id in (1, 2):
        sub = await subscriber(ctx.sessions, telegram_id, f"u{telegram_id}")
        await ledger.grant(
            ctx.sessions, sub.id, f"p{telegram_id}", timedelta(days=9), GrantKind.PURCHASE, "t"
        )
        for host in hosts.values():
            await provisioner.sync(host, sub.id)
    await panels[V2].down()
    with pytest.raises(HostError, match=r"kept: .*`--anyway` deletes it, leaving its clients there"):
        await service(ctx).delete(V2, provisioner)
    assert await host_count(ctx) == 2
    await panels[V2].up()
    # Classic panels refuse to delete an inbound's last client: that one stays, switched off.
    assert await service(ctx).delete(V2, provisioner) == {"deleted": 1, "absent": 0, "disabled": 1, "left": 0}
    [left] = panels[V2].clients()
    assert left["enable"] is False
    # A panel gone for good: the host can still be deleted, its clients left where they are.
    await panels[V3_1].down()
    gone = await service(ctx).delete(V3_1, provisioner, anyway=True)
    assert gone == {"deleted": 0, "absent": 0, "disabled": 0, "left": 2}
    assert await host_count(ctx) == 0
    async with ctx.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(PanelClient)) == 0
    await panels[V3_1].up()
    assert len(panels[V3_1].clients()) == 2
    await pool.aclose()


def test_parse_input_normalises_the_url() -> None:
    data = parse_input({"name": "x", "panel_url": "https://1.2.3.4:2053/JfhUey", "inbound_id": 3})
    assert data.panel_url == "https://1.2.3.4:2053/JfhUey/"


async def run_cli(
    tmp_path: Path, *args: str, stdin: str = "", command: str = "hosts"
) -> tuple[int, str, str]:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}",
        "ENCRYPTION_KEY": TEST_KEY,
        "DATA_DIR": str(tmp_path),
        "PANEL_TIMEOUT_SECONDS": "3",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "shop.runtime.cli",
        command,
        *args,
        env=env,
        cwd=tmp_path,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate(stdin.encode())
    return process.returncode or 0, out.decode(), err.decode()


async def test_hosts_cli_end_to_end(tmp_path: Path, start_panel: StartPanel) -> None:
    panel = await start_panel(version=V3_1, base_path="/p4nel/")
    code, out, err = await run_cli(
        tmp_path,
        "add",
        "fi",
        "--url",
        panel.url,
        "--inbound",
        str(panel.inbound_id),
        "--username",
        "admin",
        "--password",
        "-",
        "--flag",
        "🇫🇮",
        stdin="admin\n",
    )
    assert code == 0, err
    assert "added" in out
    code, out, _ = await run_cli(tmp_path, "list")
    assert code == 0 and "fi\tenabled" in out and "0 clients" in out
    code, _, err = await run_cli(
        tmp_path,
        "add",
        "bad",
        "--url",
        panel.url,
        "--inbound",
        "9",
        "--username",
        "admin",
        "--password",
        "admin",
    )
    assert code == 1 and err.strip() == "vpnshop: inbound 9 does not exist on the panel"
    code, _, err = await run_cli(tmp_path, "disable", "nope")
    assert code == 1 and "no host named 'nope'" in err
    code, out, _ = await run_cli(tmp_path, "disable", "fi")
    assert code == 0 and "disabled" in out
    code, out, _ = await run_cli(tmp_path, "delete", "fi")
    assert code == 0 and "deleted" in out
    code, out, _ = await run_cli(tmp_path, "list")
    assert out.strip() == "no hosts yet"
