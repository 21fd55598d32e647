"""Operators' saved answers: `/quick add <name> <text>` keeps one, `/q <name>` sends it."""

from __future__ import annotations

import re

from sqlalchemy import delete, select

from shop.db import SessionFactory
from shop.models import QuickReply

NAME = re.compile(r"^[a-z0-9_-]{1,32}$")
MAX_TEXT = 4000  # under Telegram's 4096, leaving room for nothing else to go wrong


class QuickReplyError(ValueError):
    """A bad name or text; the message says which."""


def check_name(name: str) -> str:
    name = name.lower()
    if not NAME.match(name):
        raise QuickReplyError("name")
    return name


async def save(sessions: SessionFactory, name: str, text: str, operator_id: int) -> None:
    name = check_name(name)
    text = text.strip()
    if not text or len(text) > MAX_TEXT:
        raise QuickReplyError("text")
    async with sessions() as session, session.begin():
        existing = await session.get(QuickReply, name)
        if existing is None:
            session.add(QuickReply(name=name, text=text, created_by=operator_id))
        else:
            existing.text, existing.created_by = text, operator_id


async def remove(sessions: SessionFactory, name: str) -> bool:
    async with sessions() as session, session.begin():
        result = await session.execute(delete(QuickReply).where(QuickReply.name == check_name(name)))
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def get(sessions: SessionFactory, name: str) -> str | None:
    async with sessions() as session:
        row = await session.get(QuickReply, check_name(name))
        return row.text if row else None


async def names(sessions: SessionFactory) -> list[str]:
    async with sessions() as session:
        return list(await session.scalars(select(QuickReply.name).order_by(QuickReply.name)))
