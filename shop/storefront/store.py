"""The owner's settings in the `shop_settings` table, read through a short per-process cache.

Every process (API, bot, worker) holds one `Storefront` (on its `AppContext`). `current()` rereads
the table at most every `SETTINGS_CACHE_SECONDS` (a handful of rows), so a change made in the
console reaches every process within that time, without a restart. `update()` validates the whole
result before writing anything: a bad value changes nothing and the error names the field.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy import delete, select
from sqlalchemy.exc import SQLAlchemyError

from shop.db import SessionFactory
from shop.models import ShopSetting, utcnow
from shop.operators import audit
from shop.operators.audit import Actor
from shop.operators.forms import Invalid
from shop.settings import Settings
from shop.storefront.fields import ENV, GROUPS, TEXT_KEYS, OwnerSettings, Source, from_environment

log = logging.getLogger(__name__)
TEXTS = "texts"


# Pydantic's own error types, as the console's reason codes (its texts say `error_<code>`).
CODES = {
    "greater_than": "out_of_range", "greater_than_equal": "out_of_range", "less_than": "out_of_range",
    "less_than_equal": "out_of_range", "string_too_short": "required", "string_too_long": "too_long",
    "decimal_max_places": "decimal_places", "decimal_max_digits": "too_large", "int_parsing": "not_number",
    "int_from_float": "not_number", "decimal_parsing": "not_number", "bool_parsing": "not_boolean",
    "extra_forbidden": "unknown",
}  # fmt: skip


class SettingsInvalid(Invalid):
    """Some values were refused: `fields` maps each field (or text key) to a reason code for the
    console, `errors` to a sentence (with the detail, e.g. which tag is not closed)."""

    def __init__(self, errors: dict[str, tuple[str, str]]) -> None:
        super().__init__({name: code for name, (code, _) in errors.items()})
        self.errors = {name: message for name, (_, message) in errors.items()}


@dataclass(frozen=True)
class SettingView:
    name: str  # a field, or a text key "<name>.<lang>"
    group: str
    value: Any
    source: Source
    variable: str | None  # the environment variable that seeds it, if any


@dataclass(frozen=True)
class Change:
    name: str
    before: Any
    after: Any


def _errors(error: ValidationError) -> dict[str, tuple[str, str]]:
    found: dict[str, tuple[str, str]] = {}
    for item in error.errors():
        loc = [str(part) for part in item["loc"]]
        if loc[:1] == [TEXTS] and len(loc) > 1:
            name = loc[1]
        elif loc:
            name = loc[0]
        else:  # a rule across fields names its field at the start of its message
            name, _, _ = item["msg"].removeprefix("Value error, ").partition(":")
        message = item["msg"].removeprefix("Value error, ").removeprefix(f"{name}: ")
        found.setdefault(name, (CODES.get(item["type"], item["type"]), message))
    return found


class Storefront:
    def __init__(self, sessions: SessionFactory, env: Settings) -> None:
        self.sessions = sessions
        self.env = env
        self.cache_seconds = env.settings_cache_seconds
        self._lock = asyncio.Lock()
        self._loaded_at = float("-inf")
        self._snapshot = OwnerSettings()
        self._stored: dict[str, Any] = {}
        # Values the rules refuse now, from the database and from the environment (see `current`).
        self._ignored_stored: set[str] = set()
        self._ignored_env: set[str] = set()

    def _environment(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name, attribute in ENV.items():
            if attribute in self.env.model_fields_set and name not in self._ignored_env:
                value = from_environment(name, getattr(self.env, attribute))
                if value is not None:
                    values[name] = value
        return values

    def _build(self, stored: dict[str, Any]) -> OwnerSettings:
        values = self._environment()
        stored = {k: v for k, v in stored.items() if k.removeprefix(f"{TEXTS}.") not in self._ignored_stored}
        texts = {key[len(TEXTS) + 1 :]: v for key, v in stored.items() if key.startswith(f"{TEXTS}.")}
        values |= {key: v for key, v in stored.items() if not key.startswith(f"{TEXTS}.")}
        return OwnerSettings.model_validate(values | {TEXTS: texts})

    def _build_skipping_invalid(self, stored: dict[str, Any]) -> OwnerSettings:
        """A value the rules refuse (an environment variable the old rules took, e.g. a link
        without https://, or a row stored under looser rules) is skipped with a warning, never
        fatal: that setting falls back to the next source."""
        while True:
            try:
                return self._build(stored)
            except ValidationError as error:
                bad = set(_errors(error))
                names = {key.removeprefix(f"{TEXTS}.") for key in stored} - self._ignored_stored
                if bad & names:  # the database's value first: the environment's may be fine
                    self._ignored_stored |= bad & names
                elif not bad <= self._ignored_env:
                    self._ignored_env |= bad
                else:  # the defaults themselves: a bug, not a setting
                    raise
                log.warning("owner settings %s are invalid and ignored", ", ".join(sorted(bad)))

    async def _read(self) -> dict[str, Any]:
        async with self.sessions() as session:
            rows = await session.execute(select(ShopSetting.key, ShopSetting.value))
            return {key: json.loads(value) for key, value in rows.all()}

    async def current(self) -> OwnerSettings:
        """The settings now; at most `SETTINGS_CACHE_SECONDS` old."""
        if time.monotonic() - self._loaded_at < self.cache_seconds:
            return self._snapshot
        async with self._lock:
            if time.monotonic() - self._loaded_at >= self.cache_seconds:
                try:
                    stored = await self._read()
                except (SQLAlchemyError, OSError) as error:
                    if self._loaded_at == float("-inf"):
                        raise
                    # The database is away (a restart): keep serving the last settings read,
                    # and look again in a second.
                    log.warning("owner settings not reloaded, keeping the last ones: %s", error)
                    self._loaded_at = time.monotonic() - self.cache_seconds + 1
                    return self._snapshot
                self._ignored_stored, self._ignored_env = set(), set()
                snapshot = self._build_skipping_invalid(stored)
                self._snapshot, self._stored, self._loaded_at = snapshot, stored, time.monotonic()
        return self._snapshot

    def forget(self) -> None:
        """The next `current()` rereads the table (after this process changed it)."""
        self._loaded_at = float("-inf")

    async def describe(self) -> list[SettingView]:
        """Every setting with its value and where the value comes from, in the console's order."""
        self.forget()
        current = await self.current()
        environment = self._environment()
        views = []

        def source(key: str, field: str) -> Source:
            if key in self._stored:
                return Source.DATABASE
            return Source.ENVIRONMENT if field in environment else Source.DEFAULT

        for group, names in GROUPS.items():
            for name in names:
                variable = ENV[name].upper() if name in ENV else None
                views.append(SettingView(name, group, getattr(current, name), source(name, name), variable))
        for key in TEXT_KEYS:
            views.append(
                SettingView(key, TEXTS, current.texts.get(key, ""), source(f"{TEXTS}.{key}", ""), None)
            )
        return views

    async def update(self, changes: Mapping[str, Any], actor: Actor) -> list[Change]:
        """Sets the given fields and texts ("" for a text: the catalogue's again), validating the
        result as a whole; SettingsInvalid names each refused field and nothing is written. The
        change and its audit entry are written together."""
        _known(list(changes))
        self.forget()
        before = await self.current()
        fields = {k: v for k, v in changes.items() if k not in TEXT_KEYS}
        texts = dict(before.texts) | {k: v or "" for k, v in changes.items() if k in TEXT_KEYS}
        try:
            after = OwnerSettings.model_validate(before.model_dump() | fields | {TEXTS: texts})
        except ValidationError as error:
            raise SettingsInvalid(_errors(error)) from None
        done = _changes(before, after, list(changes))
        dumped = after.model_dump(mode="json")
        rows = {}
        for change in done:
            if change.name in TEXT_KEYS:  # an emptied text has no row: the catalogue's again
                rows[f"{TEXTS}.{change.name}"] = dumped[TEXTS].get(change.name) or None
            else:
                rows[change.name] = dumped[change.name]
        await self._write(rows, done, actor, "settings.update")
        return done

    async def reset(self, names: list[str], actor: Actor) -> list[Change]:
        """Drops the owner's value of these settings: each goes back to the environment's or the
        default (validated like an update), audited."""
        _known(names)
        self.forget()
        before = await self.current()
        keys = [f"{TEXTS}.{name}" if name in TEXT_KEYS else name for name in names]
        try:
            after = self._build({k: v for k, v in self._stored.items() if k not in keys})
        except ValidationError as error:
            raise SettingsInvalid(_errors(error)) from None
        done = _changes(before, after, names)
        await self._write(dict.fromkeys(keys), done, actor, "settings.reset")
        return done

    async def _write(self, rows: dict[str, Any], done: list[Change], actor: Actor, action: str) -> None:
        """Writes each row (None: deletes it) and the audit entry in one transaction."""
        if not done:
            return
        now, by = utcnow(), f"{actor.channel}:{actor.id}"
        async with self.sessions() as session, session.begin():
            await session.execute(delete(ShopSetting).where(ShopSetting.key.in_(list(rows))))
            for key, value in rows.items():
                if value is not None:
                    session.add(ShopSetting(key=key, value=json.dumps(value), updated_at=now, updated_by=by))
            audit.record(
                session,
                actor,
                action,
                "settings",
                {change.name: change.before for change in done},
                {change.name: change.after for change in done},
            )
        self.forget()


def _known(names: list[str]) -> None:
    unknown = [n for n in names if n == TEXTS or (n not in OwnerSettings.model_fields and n not in TEXT_KEYS)]
    if unknown:
        raise SettingsInvalid({name: ("unknown", "is not a setting") for name in unknown})


def _changes(before: OwnerSettings, after: OwnerSettings, names: list[str]) -> list[Change]:
    done = [
        Change(name, before.texts.get(name, ""), after.texts.get(name, ""))
        if name in TEXT_KEYS
        else Change(name, getattr(before, name), getattr(after, name))
        for name in names
    ]
    return [change for change in done if change.before != change.after]
