"""Bad input gets a friendly answer, changes nothing and crashes nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from shop.models import Grant, Payment, Plan, User
from tests.bot.kit import Shop
from tests.factories import plan


async def counts(shop: Shop) -> tuple[int, ...]:
    async with shop.ctx.sessions() as session:
        return tuple(
            [
                await session.scalar(select(func.count()).select_from(table)) or 0
                for table in (User, Payment, Grant)
            ]
        )


async def test_a_stranger_is_asked_to_start(shop: Shop) -> None:
    zoe = shop.person(41, "Zoe", "en")
    await zoe.says("hello")
    assert zoe.last.text == "Please send /start to begin."
    await zoe.says("/start")
    answer = await zoe.sends_callback("nav:buy", on=zoe.messages[0])
    assert answer is not None and answer.text is None  # registered now: the button works


@pytest.mark.parametrize(
    ("language", "unknown", "free"),
    [
        ("ru", "Такой команды нет. Откройте меню: /menu", "Я не понимаю это сообщение 🤔 Пожалуйста, "
         "пользуйтесь кнопками меню."),
        ("en", "There is no such command. Open the menu: /menu", "I don't understand this message 🤔 "
         "Please use the menu buttons."),
    ],
)  # fmt: skip
async def test_unknown_command_and_free_text(shop: Shop, language: str, unknown: str, free: str) -> None:
    amy = await shop.started(42, "Amy", language)
    before = await counts(shop)
    await amy.says("/teleport")
    assert amy.last.text == unknown
    await amy.says("give me vpn")
    assert amy.last.text == free and len(amy.last.button_texts) == 1
    await amy.taps(amy.last.button_texts[0])
    assert "💳" in amy.last.button_texts[0]  # back on the menu
    assert await counts(shop) == before


@pytest.mark.parametrize(
    "data",
    [
        "nav:nowhere",
        "garbage",
        "plan:abc",
        "plan:999",
        "method:1:bitcoin",
        "pay:",
        "lang:de",
        "howto:amiga",
        "x" * 64,
    ],
)
async def test_stale_or_forged_buttons(shop: Shop, data: str) -> None:
    await plan(shop.ctx.sessions)
    ben = await shop.started(43, "Ben", "en")
    before = await counts(shop)
    answer = await ben.sends_callback(data)
    assert answer is not None and answer.show_alert
    assert answer.text == "This button is out of date. Open the menu again: /menu"
    assert await counts(shop) == before


async def test_a_plan_withdrawn_after_the_list_was_shown(shop: Shop) -> None:
    plan_id = (await plan(shop.ctx.sessions, "Month")).id
    cleo = await shop.started(44, "Cleo", "ru")
    await cleo.taps("Купить подписку")
    plans = cleo.last
    async with shop.ctx.sessions() as session, session.begin():
        row = await session.get(Plan, plan_id)
        assert row is not None
        row.active = False
    answer = await cleo.taps("Month", on=plans)
    assert answer is not None and answer.text == "Эта кнопка устарела. Откройте меню заново: /menu"
