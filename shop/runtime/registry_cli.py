"""What `vpnshop hosts` (3x-ui panels) and `vpnshop mtg` (MTG panels) share: the actions' parser,
the flags' values (a secret given as "-" is read from standard input, keeping it out of `ps` and
history), the registry service acting for the shell, and the edit/enable/disable actions."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from shop.access.hosts import HostService
from shop.context import AppContext
from shop.crypto import Sealer
from shop.operators.audit import Actor
from shop.proxy.hosts import MtgHostService
from shop.runtime.migrate import upgrade
from shop.settings import Settings

SHELL = Actor(0, "cli")  # the audit log's actor for the shell: whoever runs `vpnshop` on the server
R = TypeVar("R", HostService, MtgHostService)
CHANGES = ("edit", "enable", "disable")  # the actions `edit_or_switch` runs


def add_actions(
    commands: Any,
    command: str,
    noun: str,
    flags: Callable[[argparse.ArgumentParser, bool], None],
    helps: dict[str, str],
    more: tuple[tuple[str, str], ...] = (),
) -> None:
    """`command add|list|edit|enable|disable|…|delete`; `noun` ("a host") words the edit and
    switch helps, `helps` holds the others (command, add, list, enable_note, delete, anyway);
    `more` is a kind's own (action, help) pairs, each on a host named by its argument."""
    parser = commands.add_parser(command, help=helps["command"])
    actions = parser.add_subparsers(dest="action", required=True)
    add = actions.add_parser("add", help=helps["add"])
    add.add_argument("name")
    flags(add, True)
    actions.add_parser("list", help=helps["list"])
    edit = actions.add_parser("edit", help=f"change {noun} (connection changes are checked first)")
    edit.add_argument("name")
    edit.add_argument("--rename", dest="new_name")
    flags(edit, False)
    for verb in ("enable", "disable"):
        actions.add_parser(verb, help=f"{verb} {noun}{helps.get('enable_note', '')}").add_argument("name")
    for action, action_help in more:
        actions.add_parser(action, help=action_help).add_argument("name")
    delete = actions.add_parser("delete", help=helps["delete"])
    delete.add_argument("name")
    delete.add_argument("--anyway", action="store_true", help=helps["anyway"])


def flag_values(
    args: argparse.Namespace, keys: tuple[str, ...], secrets: tuple[str, ...]
) -> dict[str, object]:
    """The flags given (None: not given), secrets "-" read from stdin, and a rename."""
    values = {key: getattr(args, key) for key in keys if getattr(args, key, None) is not None}
    for key in secrets:
        if values.get(key) == "-":
            values[key] = sys.stdin.readline().strip()
    if getattr(args, "new_name", None):
        values["name"] = args.new_name
    return values


@asynccontextmanager
async def shell_registry(settings: Settings, kind: type[R]) -> AsyncIterator[R]:
    """The database brought up to date, then the registry acting for the shell."""
    logging.getLogger("alembic").setLevel(logging.WARNING)  # one line per outcome, nothing else
    await upgrade(settings.db_url)
    ctx = AppContext.open(settings)
    try:
        yield kind(ctx.sessions, Sealer.from_settings(settings), settings.panel_timeout_seconds, actor=SHELL)
    finally:
        await ctx.close()


async def edit_or_switch(
    service: HostService | MtgHostService, args: argparse.Namespace, values: dict[str, object], noun: str
) -> str:
    """The edit, enable or disable action (`values`: the edit's flags), alike for every kind."""
    if args.action == "edit":
        host = await service.edit(args.name, values)
        return f"{noun} {host.name!r} updated"
    host = await service.set_enabled(args.name, args.action == "enable")
    return f"{noun} {host.name!r} {args.action}d"
