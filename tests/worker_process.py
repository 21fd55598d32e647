"""A `vpnshop worker` process of the test's own, for tests that SIGKILL it mid-work."""

from __future__ import annotations

import os
import subprocess
import sys

from pydantic import SecretStr

from shop.runtime.temporal import EmbeddedTemporal
from shop.settings import Settings
from tests.conftest import NAMESPACE


def worker_env(settings: Settings, server: EmbeddedTemporal, **overrides: str) -> dict[str, str]:
    """The test's settings (task queue, database, sandboxes) as the environment of a worker process."""
    env = dict(os.environ)
    for name, field in Settings.model_fields.items():
        value = getattr(settings, name)
        if value == field.default or value is None:
            continue
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        elif isinstance(value, list):
            value = ",".join(str(item) for item in value)
        env[name.upper()] = str(value)
    env.update(TEMPORAL_ADDRESS=server.address, TEMPORAL_NAMESPACE=NAMESPACE, **overrides)
    return env


def worker_process(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "shop.runtime.cli", "worker"], env=env, stdout=subprocess.DEVNULL
    )
