"""Before `vpnshop up` (or the demo) starts anything: the data directory is ours alone and private,
every port it will listen on is free, and customers will get links they can open.

Each refusal is one line per cause and changes nothing: no database is opened, no server spawned.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import socket
from collections.abc import Iterator
from pathlib import Path

from shop.settings import Settings, SettingsError

LOCK_FILE = "vpnshop.lock"


class StartRefused(Exception):
    """The shop cannot start here; each line of the message is one cause."""


def require_public_url(settings: Settings) -> None:
    """The bot sends customers /sub and payment links: a loopback address would reach nobody."""
    if settings.telegram_bot_token is not None and not settings.public_base_url:
        raise SettingsError(
            "invalid setting PUBLIC_BASE_URL: required when TELEGRAM_BOT_TOKEN is set "
            f"(customers' links would point at {settings.base_url}); see docs/owners-guide.md"
        )


def _holder(lock_path: Path) -> str:
    with contextlib.suppress(OSError, ValueError):
        return f"PID {int(lock_path.read_text().strip())}"
    return "another process"


@contextlib.contextmanager
def data_dir_lock(data_dir: Path) -> Iterator[None]:
    """An exclusive lock on DATA_DIR for as long as the shop runs; the kernel drops it when the
    process ends, however it ends, so a stale lock file never blocks a restart."""
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    lock_path = data_dir / LOCK_FILE
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StartRefused(
                f"{data_dir} is in use by another vpnshop ({_holder(lock_path)}): "
                "stop it first, or give this one its own DATA_DIR"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield
    finally:
        os.close(fd)


def make_private(data_dir: Path) -> None:
    """Databases and the secret key are readable by the shop's user only (also those of earlier
    versions, which were created world-readable)."""
    data_dir.chmod(0o700)
    for path in data_dir.iterdir():
        if path.is_file() and path.stat().st_mode & 0o077:
            path.chmod(0o600)


def _busy(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        # As the servers themselves bind: a port in TIME_WAIT is free, one with a listener is not.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as error:
            return error.errno in (errno.EADDRINUSE, errno.EACCES)
    return False


def check_ports(settings: Settings) -> None:
    wanted = [("API_PORT", settings.api_host, settings.api_port, "the API")]
    if settings.embedded_temporal:
        wanted.append(("TEMPORAL_PORT", "127.0.0.1", settings.temporal_port, "the Temporal server"))
        wanted.append(("TEMPORAL_UI_PORT", "127.0.0.1", settings.temporal_ui_port, "the Temporal UI"))
    busy = [
        f"port {port} ({name}, for {what}) is in use on {host}: stop what listens there or set {name}"
        for name, host, port, what in wanted
        if _busy(host, port)
    ]
    if busy:
        raise StartRefused("\n".join(busy))


@contextlib.contextmanager
def claim(settings: Settings) -> Iterator[None]:
    """Everything `up` checks before it starts a thing, held for as long as it runs."""
    with data_dir_lock(settings.data_dir):
        make_private(settings.data_dir)
        check_ports(settings)
        yield
