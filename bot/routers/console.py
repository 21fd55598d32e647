"""/console (and the button in /admin): a one-time sign-in link to the web console, for operators
only (owners in ADMIN_IDS, support in CONSOLE_SUPPORT_IDS)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, Filter
from aiogram.types import CallbackQuery, LinkPreviewOptions, Message, User

from bot.callbacks import Admin, AdminAction
from bot.texts import t
from shop.context import AppContext
from shop.operators.roles import role_of
from shop.operators.signin import LINK_LIFETIME, Signins


class IsOperator(Filter):
    async def __call__(self, event: Message | CallbackQuery, ctx: AppContext, event_from_user: User) -> bool:
        return role_of(ctx.settings, event_from_user.id) is not None


def _text(ctx: AppContext, operator_id: int, lang: str) -> str:
    link = Signins(ctx.settings, ctx.sessions).link(operator_id)
    return t(lang, "console_link", link=link, minutes=int(LINK_LIFETIME.total_seconds() // 60))


# The link is single use: no preview, so Telegram's previewer does not open it first.
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


async def console_command(message: Message, ctx: AppContext, event_from_user: User, lang: str) -> None:
    await message.answer(_text(ctx, event_from_user.id, lang), link_preview_options=NO_PREVIEW)


async def console_button(query: CallbackQuery, ctx: AppContext, event_from_user: User, lang: str) -> None:
    if isinstance(query.message, Message):
        await query.message.answer(_text(ctx, event_from_user.id, lang), link_preview_options=NO_PREVIEW)
    await query.answer()


def build() -> Router:
    router = Router(name="console")
    router.message.filter(IsOperator())
    router.callback_query.filter(IsOperator())
    router.message.register(console_command, Command("console"))
    router.callback_query.register(console_button, Admin.filter(F.action == AdminAction.CONSOLE))
    return router
