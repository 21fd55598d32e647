"""Method parameters as Telegram reads them: form fields (JSON-encoded when complex), JSON, uploads."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sandbox.telegram.records import bad_request


@dataclass
class Upload:
    filename: str
    content: bytes


class Params:
    def __init__(self, values: dict[str, Any]) -> None:
        self.values = values

    def __contains__(self, name: str) -> bool:
        return self.values.get(name) not in (None, "")

    def raw(self, name: str) -> Any:
        return self.values.get(name)

    def text(self, name: str, default: str | None = None) -> str | None:
        value = self.values.get(name)
        if value is None or isinstance(value, Upload):
            return default
        return value if isinstance(value, str) else json.dumps(value)

    def required_text(self, name: str) -> str:
        value = self.text(name)
        if value is None or value == "":
            raise bad_request(f"{name} is empty" if value == "" else f'parameter "{name}" is required')
        return value

    def integer(self, name: str, default: int | None = None) -> int | None:
        value = self.values.get(name)
        if value is None or value == "":
            return default
        try:
            return int(value)
        except (TypeError, ValueError):
            raise bad_request(f'field "{name}" must be of type Integer') from None

    def required_integer(self, name: str) -> int:
        value = self.integer(name)
        if value is None:
            raise bad_request(f'parameter "{name}" is required')
        return value

    def flag(self, name: str, default: bool = False) -> bool:
        value = self.values.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return value
        return str(value).lower() in {"true", "1"}

    def obj(self, name: str) -> Any:
        value = self.values.get(name)
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            raise bad_request(f"can't parse {name} JSON object") from None

    def chat_id(self, name: str = "chat_id") -> int | str:
        value = self.values.get(name)
        if value is None or value == "":
            raise bad_request("chat_id is empty")
        text = str(value)
        if text.startswith("@"):
            return text
        try:
            return int(text)
        except ValueError:
            raise bad_request("chat not found") from None

    def file(self, name: str) -> bytes | str | None:
        """Uploaded bytes (direct or `attach://<field>`), or a file_id/URL string."""
        value = self.values.get(name)
        if isinstance(value, Upload):
            return value.content
        if isinstance(value, str) and value.startswith("attach://"):
            attached = self.values.get(value.removeprefix("attach://"))
            if not isinstance(attached, Upload):
                raise bad_request(f'can\'t find attached file "{value}"')
            return attached.content
        return value if isinstance(value, str) and value else None
