"""/start: register the user (or refresh their name) and greet them."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import CommandStart
from aiogram.types import Message

from bot.texts import language_for, t
from shop.accounts import register_user
from shop.context import AppContext

router = Router(name="start")


@router.message(CommandStart())
async def start(message: Message, ctx: AppContext) -> None:
    sender = message.from_user
    if sender is None:
        return
    registration = await register_user(
        ctx.sessions,
        sender.id,
        sender.username,
        sender.full_name,
        language=language_for(sender.language_code),
    )
    user = registration.user
    key = "welcome" if registration.created else "welcome_back"
    await message.answer(t(user.language, key, shop=ctx.settings.shop_name, name=sender.full_name))
