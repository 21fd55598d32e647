"""Every message and button press passes here first: who is it, in which language, may they go on."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import CallbackQuery, Chat, Message, TelegramObject, User

from bot.callbacks import AcceptTerms
from bot.texts import language_for, t
from bot.ui import alert
from shop.context import AppContext
from shop.customers.users import Customer, get_customer

Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


def _is_start(event: TelegramObject) -> bool:
    return isinstance(event, Message) and (event.text or "").split(maxsplit=1)[:1] == ["/start"]


def _is_payment_service(event: TelegramObject) -> bool:
    # Money already moved: such messages go to the payments area whatever the customer's state.
    return isinstance(event, Message) and bool(event.successful_payment or event.refunded_payment)


def _is_onboarding(event: TelegramObject) -> bool:
    return isinstance(event, CallbackQuery) and (event.data or "").startswith(f"{AcceptTerms.__prefix__}:")


async def _refuse(event: TelegramObject, text: str) -> None:
    if isinstance(event, CallbackQuery):
        await alert(event, text)
    elif isinstance(event, Message):
        await event.answer(text)


class CustomerGate(BaseMiddleware):
    """Adds `customer` (or None before /start) and `lang`; turns away banned customers with one clear
    message on every action, and customers who have not finished onboarding."""

    async def __call__(self, handler: Handler, event: TelegramObject, data: dict[str, Any]) -> Any:
        sender: User | None = data.get("event_from_user")
        chat: Chat | None = data.get("event_chat")
        ctx: AppContext = data["ctx"]
        if sender is None or _is_payment_service(event):
            return await handler(event, data)
        customer: Customer | None = await get_customer(ctx.sessions, sender.id)
        lang = customer.language if customer else language_for(sender.language_code)
        data["customer"], data["lang"] = customer, lang
        if chat is not None and chat.type != "private":
            return await handler(event, data)  # a group's people (the desk's operators) are no customers
        if customer is not None and customer.banned:
            await _refuse(event, t(lang, "banned"))
            return None
        if _is_start(event):
            return await handler(event, data)
        if customer is None:
            await _refuse(event, t(lang, "need_start"))
            return None
        onboarding = (await ctx.storefront.current()).onboarding_required
        if onboarding and not customer.terms_accepted and not _is_onboarding(event):
            await _refuse(event, t(lang, "onboarding_pending"))
            return None
        return await handler(event, data)
