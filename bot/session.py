"""The Bot API session every bot of the shop uses: aiogram's aiohttp session, with the answer
types it builds kept alive.

aiogram reads each answer as `Response[<the method's result type>]`, a pydantic generic model it
parametrises on every call. pydantic keeps parametrised models only weakly, so after each garbage
collection the next answer builds the class again, validators and schema included: a few ms of
CPU per Bot API call, and 4 % of the shop's CPU in a burst of payments (docs/performance.md).
Holding each one once built keeps pydantic's own cache warm.
"""

from __future__ import annotations

import functools
from typing import Any

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.methods import TelegramMethod
from aiogram.methods.base import Response


@functools.cache
def response_type(returning: Any) -> Any:
    """`Response[returning]`, held for the life of the process (a handful of result types)."""
    return Response[returning]


class BotSession(AiohttpSession):
    def check_response(
        self, bot: Bot, method: TelegramMethod[Any], status_code: int, content: str
    ) -> Response[Any]:
        response_type(method.__returning__)
        return super().check_response(bot, method, status_code, content)
