"""`vpnshop` command line: up, worker, api, bot, support, migrate, hosts, mtg, backup, restore, demo."""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import sys
from collections.abc import Callable, Coroutine
from typing import Any

from shop.backups.manifest import BackupRefused
from shop.operators.roles import role_of
from shop.operators.signin import signin_link
from shop.runtime import backups_cli, hosts_cli, mtg_cli, preflight
from shop.runtime.temporal import TemporalStartError
from shop.runtime.worker_processes import WorkerProcessExited
from shop.settings import Settings, SettingsError, load_settings


def configure_logging(settings: Settings, process: str = "") -> None:
    """`process` names a process of several writing to one stream (`up`'s worker processes)."""
    logging.basicConfig(
        level=settings.log_level,
        format=f"%(asctime)s %(levelname)s {process + ' ' if process else ''}%(name)s: %(message)s",
        stream=sys.stderr,
    )
    for noisy in (
        "aiogram.event",
        "alembic.runtime.plugins",
        "httpx",
        "temporalio.worker._workflow_instance",
    ):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vpnshop", description="A Telegram shop for VPN subscriptions")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser(
        "up", help="run everything on this machine (embedded Temporal unless TEMPORAL_ADDRESS)"
    )
    commands.add_parser("worker", help="run the Temporal worker only")
    commands.add_parser("api", help="run the HTTP API only")
    commands.add_parser("bot", help="run the Telegram bot only")
    commands.add_parser("support", help="run the support desk's bot only (SUPPORT_BOT_TOKEN)")
    commands.add_parser("migrate", help="apply database migrations and exit")
    commands.add_parser(
        "demo",
        help="run the shop against sandboxes and buy one subscription end to end (DATA_DIR: data/demo)",
    )
    hosts_cli.add_parser(commands)
    mtg_cli.add_parser(commands)
    backups_cli.add_parser(commands)
    link = commands.add_parser(
        "console-link", help="print a one-time sign-in link to the web console (first setup)"
    )
    link.add_argument("telegram_id", type=int, help="an operator's Telegram id (in ADMIN_IDS)")
    return parser


async def _dispatch(args: argparse.Namespace, settings: Settings) -> None:
    from shop.runtime import processes

    command = args.command
    if command == "hosts":
        print(await hosts_cli.run(args, settings))
    elif command == "mtg":
        print(await mtg_cli.run(args, settings))
    elif command in ("backup", "restore"):
        print(await backups_cli.run(args, settings))
    elif command == "console-link":
        print(console_link(settings, args.telegram_id))
    elif command == "demo":
        from shop.runtime.demo import DemoError, run_demo

        try:
            await run_demo()
        except DemoError as error:
            print(f"vpnshop: {error}", file=sys.stderr)
            raise SystemExit(1) from None
    elif command == "up":
        await processes.up(settings)
    elif command == "migrate":
        from shop.runtime.migrate import upgrade

        await upgrade(settings.db_url)
    else:
        role = {
            "worker": processes.run_worker,
            "api": processes.run_api,
            "bot": processes.run_bot,
            "support": processes.run_support,
        }[command]
        # Scaled roles never start an embedded server and never migrate: they join the cluster in
        # TEMPORAL_ADDRESS, after `vpnshop migrate` has run once.
        if settings.embedded_temporal:
            raise SettingsError(f"invalid setting TEMPORAL_ADDRESS: required by `vpnshop {command}`")
        if command == "bot":
            preflight.require_public_url(settings)
        roles: list[processes.Role] = [role]
        if command == "worker":  # its panel counters, where no API process runs beside it
            roles.append(processes.run_worker_metrics)
        await processes.run_roles(settings, roles, migrate=False)


def console_link(settings: Settings, telegram_id: int) -> str:
    if role_of(settings, telegram_id) is None:
        raise SettingsError(f"{telegram_id} is not an operator: add it to ADMIN_IDS (or CONSOLE_SUPPORT_IDS)")
    return signin_link(settings, telegram_id)


def _event_loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's loop where it is installed (not on Windows): the shop's process spends much of its
    CPU in the event loop itself (sockets to Telegram, the panels, the providers, the database's
    thread), and uvloop's costs less per payment (docs/performance.md). asyncio's otherwise."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


# Young-generation collections: after this many new container objects (CPython's default: 700).
YOUNG_COLLECTION = 10_000


def _tune_gc() -> None:
    """The modules and objects made at start live as long as the process: frozen, the collector's
    full passes no longer walk them. Young collections every 10,000 new container objects instead
    of 700: a payment's thousands of short-lived objects (payloads, rows, requests) die young
    either way, and each pass has a fixed cost (docs/performance.md)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_COLLECTION, *gc.get_threshold()[1:])


def run_process(work: Coroutine[Any, Any, None]) -> None:
    """Run a shop process's top coroutine: the collector tuned, on uvloop where installed."""
    _tune_gc()
    with asyncio.Runner(loop_factory=_event_loop_factory()) as runner:
        runner.run(work)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    # Databases, the secret key, logs and the Temporal server's files: the shop's user only.
    os.umask(0o077)
    try:
        settings = load_settings()
        configure_logging(settings)
        run_process(_dispatch(args, settings))
    except SettingsError as error:
        print(f"vpnshop: {error}", file=sys.stderr)
        return 2
    except (hosts_cli.HostError, BackupRefused) as error:
        for line in str(error).splitlines():
            print(f"vpnshop: {line}", file=sys.stderr)
        return 1
    except (TemporalStartError, preflight.StartRefused, WorkerProcessExited) as error:
        for line in str(error).splitlines():
            print(f"vpnshop: {line}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
