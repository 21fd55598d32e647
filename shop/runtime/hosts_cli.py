"""`vpnshop hosts add|list|edit|enable|disable|delete`: manage the 3x-ui panels from the shell.

Secrets may be given as "-" to read them from standard input, keeping them out of `ps` and history.
"""

from __future__ import annotations

import argparse
from typing import Any

from shop.access.hosts import HostError, HostService, parse_input
from shop.models import Host
from shop.runtime.registry_cli import CHANGES, add_actions, edit_or_switch, flag_values, shell_registry
from shop.settings import Settings

SECRETS = ("password", "api_token", "totp_secret")
HELPS = {
    "command": "manage 3x-ui panels (hosts)",
    "add": "add a host after checking its panel login and inbound",
    "list": "list hosts",
    "delete": "remove the host's clients from its panel, then the host",
    "anyway": "if the panel cannot be reached, delete the host anyway, leaving its clients on the panel",
}


def add_parser(commands: Any) -> None:
    add_actions(commands, "hosts", "a host", _connection_flags, HELPS)


def _connection_flags(parser: argparse.ArgumentParser, required: bool) -> None:
    parser.add_argument("--url", dest="panel_url", required=required, help="panel URL with its base path")
    parser.add_argument("--inbound", dest="inbound_id", type=int, required=required, help="VLESS inbound id")
    parser.add_argument("--username")
    parser.add_argument("--password", help='"-" reads it from stdin')
    parser.add_argument("--api-token", dest="api_token", help='v3 Bearer token; "-" reads it from stdin')
    parser.add_argument(
        "--totp-secret", dest="totp_secret", help='two-factor secret; "-" reads it from stdin'
    )
    parser.add_argument(
        "--insecure",
        dest="verify_tls",
        action="store_false",
        default=None,
        help="accept a self-signed TLS certificate",
    )
    parser.add_argument(
        "--address", dest="public_address", help="address in links (default: the panel's host)"
    )
    parser.add_argument("--flag", help="emoji flag shown in link names")
    parser.add_argument("--country")
    parser.add_argument("--order", dest="sort_order", type=int)


def _values(args: argparse.Namespace) -> dict[str, object]:
    keys = (
        "panel_url",
        "inbound_id",
        "username",
        *SECRETS,
        "verify_tls",
        "public_address",
        "flag",
        "country",
        "sort_order",
    )
    return flag_values(args, keys, SECRETS)


def _describe(host: Host, clients: int) -> str:
    state = "enabled" if host.enabled else "disabled"
    address = host.public_address or "-"
    fields = (host.name, state, host.panel_url, f"inbound {host.inbound_id}", f"address {address}")
    return "\t".join((*fields, f"{clients} clients"))


async def run(args: argparse.Namespace, settings: Settings) -> str:
    """Run one hosts action; returns what to print. Raises HostError (exit code 1)."""
    async with shell_registry(settings, HostService) as service:
        if args.action == "list":
            counts = await service.client_counts()
            hosts = await service.list()
            return "\n".join(_describe(h, counts.get(h.id, 0)) for h in hosts) or "no hosts yet"
        if args.action == "add":
            host = await service.add(parse_input({"name": args.name, **_values(args)}))
            return f"host {host.name!r} added; active subscriptions reach it on the next reconciliation"
        if args.action in CHANGES:
            return await edit_or_switch(service, args, _values(args), "host")
        outcome = await service.delete_with_cleanup(args.name, settings.panel_email_prefix, args.anyway)
        if outcome["left"]:
            return (
                f"host {args.name!r} deleted without its panel: WARNING {outcome['left']} clients are left "
                "on it and keep working until the expiry last written there; remove them in 3x-ui"
            )
        note = (
            f", {outcome['disabled']} left disabled (3x-ui keeps one client per inbound)"
            if outcome["disabled"]
            else ""
        )
        return f"host {args.name!r} deleted: {outcome['deleted']} clients removed from the panel{note}"


__all__ = ["HostError", "add_parser", "run"]
