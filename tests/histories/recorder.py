"""What the history recorder runs on: a fresh database per scenario, secrets it must never save,
and `save()`, which writes one closed workflow's history as `tests/histories/<name>.json`."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client
from temporalio.service import RPCError, RPCStatusCode

from shop.context import AppContext
from shop.db import create_engine, session_factory
from shop.runtime.migrate import upgrade
from shop.settings import Settings
from tests.conftest import Database, make_context
from tests.panel_fixtures import panel_settings
from tests.polling import eventually

HERE = Path(__file__).parent
MANIFEST = HERE / "index.json"  # history name -> workflow ID (the JSON itself does not hold it)


class RecordingError(RuntimeError):
    pass


def expect(condition: object, what: str) -> None:
    """A recorded history is only worth keeping if the run took the path it is named after."""
    if not condition:
        raise RecordingError(what)


def payload_texts(node: Any) -> list[str]:
    """Payloads are base64 in the JSON: decode them, so a secret cannot hide there."""
    if isinstance(node, list):
        return [text for item in node for text in payload_texts(item)]
    if not isinstance(node, dict):
        return []
    found = []
    for key, value in node.items():
        if key == "data" and isinstance(value, str):
            try:
                found.append(base64.b64decode(value, validate=True).decode("utf-8", "replace"))
            except (binascii.Error, ValueError):
                continue
        else:
            found += payload_texts(value)
    return found


def leaked(history_json: str, secrets: set[str]) -> list[str]:
    text = "\n".join([history_json, *payload_texts(json.loads(history_json))])
    return sorted(secret for secret in secrets if secret in text)


@dataclass(frozen=True)
class Scenario:
    name: str
    histories: tuple[str, ...]  # the names it saves, exactly
    run: Callable[[Recorder], Awaitable[None]]


class Recorder:
    def __init__(self, client: Client, workdir: Path, out: Path = HERE) -> None:
        self.client = client
        self.workdir = workdir
        self.out = out
        self.secrets: set[str] = set()
        self.saved: dict[str, str] = {}
        self._engines: list[AsyncEngine] = []

    async def database(self, name: str) -> Database:
        url = f"sqlite+aiosqlite:///{self.workdir / name}.db"
        await upgrade(url)
        engine = create_engine(url)
        self._engines.append(engine)
        return Database("sqlite", url, engine, session_factory(engine))

    async def context(self, name: str, **settings: object) -> AppContext:
        """A fresh database and a task queue of its own, with sandbox panel settings."""
        database = await self.database(name)
        ctx = make_context(database, self.client, f"record-{name}", **panel_settings(**settings))
        self.watch(ctx.settings)
        return ctx

    def watch(self, settings: Settings) -> None:
        for value in settings.model_dump().values():
            if isinstance(value, SecretStr):
                self.keep_out(value.get_secret_value())

    def keep_out(self, secret: str | None) -> None:
        if secret:
            self.secrets.add(secret)

    async def save(self, name: str, workflow_id: str) -> None:
        handle = self.client.get_workflow_handle(workflow_id)

        async def started() -> bool:  # a webhook or a bot update starts it a moment later
            try:
                await handle.describe()
            except RPCError as error:
                if error.status is not RPCStatusCode.NOT_FOUND:
                    raise
                return False
            return True

        await eventually(started, seconds=60)
        await handle.result()  # closed, and completed
        history = await handle.fetch_history()
        text = history.to_json()
        found = leaked(text, self.secrets)
        expect(not found, f"{name}: the history holds {len(found)} secret value(s); not saved")
        (self.out / f"{name}.json").write_text(text + "\n")
        self.saved[name] = workflow_id
        print(f"  {name}.json: {len(history.events)} events ({workflow_id})")

    async def run(self, scenario: Scenario) -> None:
        print(f"{scenario.name}:")
        before = set(self.saved)
        await scenario.run(self)
        made = set(self.saved) - before
        expect(made == set(scenario.histories), f"{scenario.name} saved {sorted(made)}")

    async def close(self) -> None:
        for engine in self._engines:
            await engine.dispose()
