"""aiogram reads every Bot API answer as `Response[<result type>]`, a pydantic generic that pydantic
keeps only weakly: without the shop's session each garbage collection drops it, and the next
answer builds the class again (bot/session.py)."""

from __future__ import annotations

import gc
import json
import weakref

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.methods import GetMyShortDescription
from aiogram.methods.base import Response
from aiogram.types import BotShortDescription

from bot.session import BotSession

ANSWER = json.dumps({"ok": True, "result": {"short_description": "VPN in two taps"}})


def answer_type_after_collection(session: AiohttpSession) -> weakref.ref[type]:
    bot = Bot("123456:TEST-token", session=session)
    read = session.check_response(bot, GetMyShortDescription(), 200, ANSWER)
    assert isinstance(read.result, BotShortDescription)
    assert read.result.short_description == "VPN in two taps"
    kept = weakref.ref(type(read))
    del read
    gc.collect()
    return kept


def test_the_shops_session_keeps_answer_types_built() -> None:
    assert answer_type_after_collection(AiohttpSession())() is None  # aiogram's own: built again
    kept = answer_type_after_collection(BotSession())
    assert kept() is not None and kept() is Response[BotShortDescription]
