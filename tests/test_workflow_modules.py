"""The shop runs its workflows without Temporal's sandbox (shop/settings.py, WORKFLOW_SANDBOX): every
run then shares the workflow modules, which the sandbox would have imported afresh for each run. That
is only safe while those modules, and the classes they define, hold no mutable state of their own:
a list or dict at module or class level would carry one run's data into the next, and a replay
could then decide differently from the run it replays. This test keeps it so."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import MutableMapping, MutableSequence, MutableSet
from enum import Enum
from types import ModuleType
from typing import Any

import pytest
from pydantic import BaseModel

import workflows

MUTABLE = (MutableMapping, MutableSequence, MutableSet, bytearray)


def workflow_modules() -> list[ModuleType]:
    names = [f"workflows.{info.name}" for info in pkgutil.iter_modules(workflows.__path__)]
    return [workflows, *(importlib.import_module(name) for name in names)]


def shared_state(module: ModuleType) -> list[str]:
    found: list[str] = []

    def check(where: str, name: str, value: Any) -> None:
        dunder = name.startswith("__") and name.endswith("__")  # Python's own (`__all__`, `__dict__`)
        if not dunder and isinstance(value, MUTABLE):
            found.append(f"{where}.{name}: {type(value).__name__}")

    for name, value in vars(module).items():
        check(module.__name__, name, value)
        # A pydantic model's or an enum's own tables are their library's, built once per class.
        own = isinstance(value, type) and value.__module__ == module.__name__
        if own and not issubclass(value, (BaseModel, Enum)):
            for attribute, held in vars(value).items():
                check(f"{module.__name__}.{name}", attribute, held)
    return found


@pytest.mark.parametrize("module", workflow_modules(), ids=lambda module: module.__name__)
def test_workflow_modules_hold_no_state_between_runs(module: ModuleType) -> None:
    assert shared_state(module) == []


def test_the_check_sees_shared_state() -> None:
    probe = ModuleType("workflows.probe")

    class Run:
        seen: list[str] = []  # noqa: RUF012 -- the shared state the check must see

    Run.__module__ = probe.__name__
    probe.Run = Run  # type: ignore[attr-defined]
    probe.CACHE = {}  # type: ignore[attr-defined]
    probe.LIMIT = 3  # type: ignore[attr-defined]
    assert sorted(shared_state(probe)) == ["workflows.probe.CACHE: dict", "workflows.probe.Run.seen: list"]
