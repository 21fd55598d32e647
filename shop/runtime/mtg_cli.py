"""`vpnshop mtg add|list|edit|enable|disable|check|delete`: manage the MTG panels (Telegram proxies)
from the shell. A password may be given as "-" to read it from standard input."""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any

from shop.context import AppContext
from shop.crypto import Sealer
from shop.proxy.hosts import MtgHostService, parse_mtg_input
from shop.runtime.hosts_cli import SHELL
from shop.runtime.migrate import upgrade
from shop.settings import Settings


def add_parser(commands: Any) -> None:
    mtg = commands.add_parser("mtg", help="manage MTG panels (the Telegram proxy product)")
    actions = mtg.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help="add an MTG panel after checking its login and nodes")
    add.add_argument("name")
    _flags(add, required=True)
    actions.add_parser("list", help="list MTG panels")
    edit = actions.add_parser("edit", help="change an MTG panel (connection changes are checked first)")
    edit.add_argument("name")
    edit.add_argument("--rename", dest="new_name")
    _flags(edit, required=False)
    for verb in ("enable", "disable"):
        actions.add_parser(verb, help=f"{verb} an MTG panel (disabled: the proxy is not sold)").add_argument(
            "name"
        )
    actions.add_parser("check", help="log in and list the panel's nodes with their load").add_argument("name")
    delete = actions.add_parser("delete", help="remove the panel's proxies from it, then the panel")
    delete.add_argument("name")
    delete.add_argument("--anyway", action="store_true", help="delete it even if the panel cannot be reached")


def _flags(parser: argparse.ArgumentParser, required: bool) -> None:
    parser.add_argument("--url", dest="panel_url", required=required, help="the MTG admin panel's URL")
    parser.add_argument("--username", required=required)
    parser.add_argument("--password", required=required, help='"-" reads it from stdin')
    parser.add_argument("--order", dest="sort_order", type=int)


def _values(args: argparse.Namespace) -> dict[str, object]:
    keys = ("panel_url", "username", "password", "sort_order")
    values = {key: getattr(args, key) for key in keys if getattr(args, key, None) is not None}
    if values.get("password") == "-":
        values["password"] = sys.stdin.readline().strip()
    if getattr(args, "new_name", None):
        values["name"] = args.new_name
    return values


async def run(args: argparse.Namespace, settings: Settings) -> str:
    """Run one action; returns what to print. Raises HostError (exit code 1)."""
    logging.getLogger("alembic").setLevel(logging.WARNING)
    await upgrade(settings.db_url)
    ctx = AppContext.open(settings)
    try:
        sealer = Sealer.from_settings(settings)
        service = MtgHostService(ctx.sessions, sealer, settings.panel_timeout_seconds, actor=SHELL)
        if args.action == "list":
            counts = await service.proxy_counts()
            lines = [
                "\t".join(
                    (
                        h.name,
                        "enabled" if h.enabled else "disabled",
                        h.panel_url,
                        f"{counts.get(h.id, 0)} proxies",
                    )
                )
                for h in await service.hosts()
            ]
            return "\n".join(lines) or "no MTG panels yet"
        if args.action == "add":
            host = await service.add(parse_mtg_input({"name": args.name, **_values(args)}))
            return f"MTG panel {host.name!r} added; the bot offers the Telegram proxy while it is enabled"
        if args.action == "edit":
            host = await service.edit(args.name, _values(args))
            return f"MTG panel {host.name!r} updated"
        if args.action in ("enable", "disable"):
            host = await service.set_enabled(args.name, args.action == "enable")
            return f"MTG panel {host.name!r} {args.action}d"
        if args.action == "check":
            nodes = await service.check(args.name)
            rows = [
                f"{n.id}\t{'online' if n.online else 'offline'}\tload {n.load:.2f}\t{n.users} users"
                for n in nodes
            ]
            return "\n".join([f"MTG panel {args.name!r}: login ok, {len(nodes)} nodes", *rows])
        outcome = await service.delete(args.name, settings.panel_email_prefix, args.anyway)
        if outcome["left"]:
            return (
                f"MTG panel {args.name!r} deleted without its panel: WARNING {outcome['left']} proxies "
                "are left on it; remove them in the MTG panel"
            )
        return f"MTG panel {args.name!r} deleted: {outcome['deleted']} proxies removed from the panel"
    finally:
        await ctx.close()
