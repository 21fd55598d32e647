"""`vpnshop mtg add|list|edit|enable|disable|check|delete`: manage the MTG panels (Telegram proxies)
from the shell. A password may be given as "-" to read it from standard input."""

from __future__ import annotations

import argparse
from typing import Any

from shop.proxy.hosts import MtgHostService, parse_mtg_input
from shop.runtime.registry_cli import CHANGES, add_actions, edit_or_switch, flag_values, shell_registry
from shop.settings import Settings

HELPS = {
    "command": "manage MTG panels (the Telegram proxy product)",
    "add": "add an MTG panel after checking its login and nodes",
    "list": "list MTG panels",
    "enable_note": " (disabled: the proxy is not sold)",
    "delete": "remove the panel's proxies from it, then the panel",
    "anyway": "delete it even if the panel cannot be reached",
}


def add_parser(commands: Any) -> None:
    check = ("check", "log in and list the panel's nodes with their load")
    add_actions(commands, "mtg", "an MTG panel", _flags, HELPS, more=(check,))


def _flags(parser: argparse.ArgumentParser, required: bool) -> None:
    parser.add_argument("--url", dest="panel_url", required=required, help="the MTG admin panel's URL")
    parser.add_argument("--username", required=required)
    parser.add_argument("--password", required=required, help='"-" reads it from stdin')
    parser.add_argument("--order", dest="sort_order", type=int)


def _values(args: argparse.Namespace) -> dict[str, object]:
    return flag_values(args, ("panel_url", "username", "password", "sort_order"), ("password",))


async def run(args: argparse.Namespace, settings: Settings) -> str:
    """Run one action; returns what to print. Raises HostError (exit code 1)."""
    async with shell_registry(settings, MtgHostService) as service:
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
        if args.action in CHANGES:
            return await edit_or_switch(service, args, _values(args), "MTG panel")
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
