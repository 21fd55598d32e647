"""Checks Telegram applies to what a bot sends: HTML entity parsing and inline keyboards."""

from __future__ import annotations

import html
import re
from typing import Any

from sandbox.telegram.records import BotApiError, bad_request

# Tags Telegram's HTML parse mode accepts (Bot API "Formatting options").
ALLOWED_TAGS = frozenset(
    {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a", "code", "pre"}
    | {"blockquote", "tg-emoji", "tg-time"}
)
TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[a-zA-Z-]+(?:=(?:\"[^\"]*\"|'[^']*'|[^\s>]*))?)*)\s*>")
ENTITY = re.compile(r"&(lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);")
MAX_TEXT = 4096
MAX_CAPTION = 1024
BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)


def _offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def _entities_error(detail: str) -> BotApiError:
    return bad_request(f"can't parse entities: {detail}")


def parse_html(text: str) -> str:
    """The plain text Telegram shows for `text` in HTML parse mode; 400 errors as Telegram words them."""
    plain: list[str] = []
    open_tags: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char == "<":
            match = TAG.match(text, index)
            if match is None:
                raise _entities_error(f"Unexpected end of name token at byte offset {_offset(text, index)}")
            closing, name = match.group(1) == "/", match.group(2).lower()
            if name not in ALLOWED_TAGS:
                kind, at = ("end" if closing else "start"), _offset(text, index)
                raise _entities_error(f'Unsupported {kind} tag "{name}" at byte offset {at}')
            if closing:
                if not open_tags or open_tags[-1] != name:
                    expected = open_tags[-1] if open_tags else ""
                    raise _entities_error(
                        f'Unmatched end tag at byte offset {_offset(text, index)}, expected "</{expected}>", '
                        f'found "</{name}>"'
                    )
                open_tags.pop()
            else:
                open_tags.append(name)
            index = match.end()
        elif char == "&" and (entity := ENTITY.match(text, index)):
            plain.append(html.unescape(entity.group(0)))
            index = entity.end()
        else:
            plain.append(char)
            index += 1
    if open_tags:
        raise _entities_error(f'Can\'t find end tag corresponding to start tag "{open_tags[-1]}"')
    return "".join(plain)


def rendered(text: str, parse_mode: str | None, limit: int, empty_error: str) -> str:
    plain = parse_html(text) if (parse_mode or "").upper() == "HTML" else text
    if not plain.strip():
        raise bad_request(empty_error)
    if len(plain) > limit:
        raise bad_request("message is too long" if limit == MAX_TEXT else "message caption is too long")
    return plain


def check_reply_markup(markup: dict[str, Any] | None) -> None:
    if markup is None:
        return
    if "inline_keyboard" in markup:
        for row in markup["inline_keyboard"]:
            for button in row:
                _check_inline_button(button)
    elif "keyboard" in markup:
        for row in markup["keyboard"]:
            for button in row:
                text = button if isinstance(button, str) else button.get("text", "")
                if not text:
                    raise bad_request("keyboard button text is empty")
    elif not ({"remove_keyboard", "force_reply"} & markup.keys()):
        raise bad_request("can't parse reply keyboard markup JSON object")


def _check_inline_button(button: dict[str, Any]) -> None:
    if not button.get("text"):
        raise bad_request("text buttons are unallowed in the inline keyboard")
    actions = [name for name in BUTTON_ACTIONS if name in button]
    if len(actions) != 1:
        raise bad_request(
            "can't parse inline keyboard button: exactly one of the optional fields must be used"
        )
    if "callback_data" in button and not 1 <= len(button["callback_data"].encode("utf-8")) <= 64:
        raise bad_request("BUTTON_DATA_INVALID")
    if "url" in button and not re.match(r"^(https?|tg)://\S+$", button["url"]):
        raise bad_request(f"inline keyboard button URL '{button['url']}' is invalid: Wrong HTTP URL")
    if "copy_text" in button and not 1 <= len(button["copy_text"].get("text", "")) <= 256:
        raise bad_request("COPY_TEXT_INVALID")
