"""MTG hosts: added only after a login and a node check, the password sealed at rest, edits
checked, disable/enable audited, delete removing the host's proxies from the panel first (kept
when the panel is down, unless `anyway`); the `vpnshop mtg` command end to end."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from sandbox.mtg import SandboxMtg
from shop.access import ledger
from shop.access.hosts import HostError
from shop.context import AppContext
from shop.crypto import Sealer
from shop.models import AuditEntry, GrantKind, MtgHost, Product
from shop.operators.audit import Actor
from shop.proxy.hosts import MtgHostService, parse_mtg_input
from shop.proxy.pool import MtgPool
from shop.proxy.provisioning import ProxyProvisioner
from tests.factories import subscriber
from tests.test_hosts import run_cli


def _service(ctx: AppContext) -> MtgHostService:
    return MtgHostService(ctx.sessions, Sealer.from_settings(ctx.settings), 2.0, actor=Actor(7, "console"))


def _input(mtg: SandboxMtg, **changes: object) -> dict[str, object]:
    return {
        "name": "mtg",
        "panel_url": mtg.url,
        "username": mtg.username,
        "password": mtg.password,
        **changes,
    }


async def _hosts(ctx: AppContext) -> list[MtgHost]:
    async with ctx.sessions() as session:
        return list(await session.scalars(select(MtgHost)))


async def test_add_checks_the_panel_and_seals_the_password(ctx: AppContext) -> None:
    service = _service(ctx)
    async with SandboxMtg() as mtg:
        with pytest.raises(HostError, match="cannot log in") as refused:
            await service.add(parse_mtg_input(_input(mtg, password="wrong")))
        assert refused.value.field == "username"
        with pytest.raises(HostError, match="invalid panel_url") as refused:
            parse_mtg_input(_input(mtg, panel_url="ftp://x"))
        assert refused.value.field == "panel_url"
        for node in mtg.state.nodes.values():
            node.online = False
        with pytest.raises(HostError, match="no node online"):
            await service.add(parse_mtg_input(_input(mtg)))
        assert await _hosts(ctx) == []  # nothing was stored for any refusal
        for node in mtg.state.nodes.values():
            node.online = True
        host = await service.add(parse_mtg_input(_input(mtg)))
        assert host.password_encrypted and mtg.password not in host.password_encrypted
        with pytest.raises(HostError, match="already exists"):
            await service.add(parse_mtg_input(_input(mtg)))
        nodes = await service.check("mtg")
        assert [(n.id, n.online) for n in nodes] == [("n1", True), ("n2", True)]
    with pytest.raises(HostError, match="unreachable") as refused:  # the panel is gone now
        await service.check("mtg")
    assert refused.value.code == "unreachable"


async def test_edit_enable_disable_and_audit(ctx: AppContext) -> None:
    service = _service(ctx)
    async with SandboxMtg() as mtg:
        await service.add(parse_mtg_input(_input(mtg)))
        with pytest.raises(HostError, match="cannot log in"):
            await service.edit("mtg", {"password": "wrong"})
        edited = await service.edit("mtg", {"name": "tg-proxy", "password": ""})  # empty keeps the password
        assert edited.name == "tg-proxy"
        assert Sealer.from_settings(ctx.settings).open(edited.password_encrypted) == mtg.password
        await service.set_enabled("tg-proxy", False)
        await service.set_enabled("tg-proxy", False)  # no change, no second entry
        await service.set_enabled("tg-proxy", True)
    async with ctx.sessions() as session:
        actions = list(await session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
        after = await session.scalar(select(AuditEntry.after).where(AuditEntry.action == "mtg_host.add"))
    assert actions == ["mtg_host.add", "mtg_host.edit", "mtg_host.disable", "mtg_host.enable"]
    assert after is not None and mtg.password not in after


async def test_delete_removes_the_proxies_from_the_panel_first(ctx: AppContext) -> None:
    service = _service(ctx)
    async with SandboxMtg() as mtg:
        await service.add(parse_mtg_input(_input(mtg)))
        pool = MtgPool(lambda: Sealer.from_settings(ctx.settings))
        provisioner = ProxyProvisioner(ctx.sessions, pool, "vpnshop")
        for user_id in (1001, 1002):
            sub = await subscriber(ctx.sessions, user_id, f"U{user_id}")
            await ledger.grant(
                ctx.sessions,
                sub.id,
                f"k{user_id}",
                timedelta(days=30),
                GrantKind.GIFT,
                "t",
                product=Product.PROXY,
            )
            await provisioner.sync(sub.id)
        await pool.aclose()
        assert len(mtg.state.users) == 2
        await mtg.down()
        with pytest.raises(HostError, match="kept") as refused:
            await service.delete("mtg", "vpnshop")
        assert refused.value.code == "cleanup" and len(await _hosts(ctx)) == 1
        await mtg.up()
        assert await service.delete("mtg", "vpnshop") == {"deleted": 2, "absent": 0, "left": 0}
        assert mtg.state.users == {} and await _hosts(ctx) == []


async def _mtg_cli(tmp_path: Path, *args: str, stdin: str = "") -> tuple[int, str, str]:
    return await run_cli(tmp_path, *args, stdin=stdin, command="mtg")


async def test_mtg_cli_end_to_end(tmp_path: Path) -> None:
    async with SandboxMtg() as mtg:
        flags = ("--url", mtg.url, "--username", mtg.username, "--password", "-")
        code, out, err = await _mtg_cli(tmp_path, "add", "proxy1", *flags, stdin=f"{mtg.password}\n")
        assert code == 0 and "added" in out, err
        code, out, _ = await _mtg_cli(tmp_path, "list")
        assert out.strip() == f"proxy1\tenabled\t{mtg.url}\t0 proxies"
        code, out, _ = await _mtg_cli(tmp_path, "check", "proxy1")
        assert code == 0 and "login ok, 2 nodes" in out and "n2\tonline" in out
        code, _, err = await _mtg_cli(tmp_path, "add", "bad", *flags, stdin="wrong\n")
        assert code == 1 and err.startswith("vpnshop: cannot log in to the MTG panel")
        code, _, err = await _mtg_cli(tmp_path, "disable", "nope")
        assert code == 1 and "no MTG host named 'nope'" in err
        code, out, _ = await _mtg_cli(tmp_path, "disable", "proxy1")
        assert code == 0 and "disabled" in out
        code, out, _ = await _mtg_cli(tmp_path, "delete", "proxy1")
        assert code == 0 and "deleted: 0 proxies removed" in out
        code, out, _ = await _mtg_cli(tmp_path, "list")
        assert out.strip() == "no MTG panels yet"
