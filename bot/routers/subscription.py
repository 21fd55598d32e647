"""My subscription: status, expiry, days left, servers, the link with copy and QR, a new link."""

from __future__ import annotations

from html import escape

from aiogram import Bot, F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardMarkup

from bot.callbacks import Link, LinkAction, Nav, Screen
from bot.delivery import access_text, send_qr, servers_text, subscription_link
from bot.keyboards import subscription as keyboards
from bot.texts import date, t
from bot.ui import alert, screen_handlers, show
from shop.context import AppContext
from shop.customers.users import AccessState, Customer, access_of, new_link
from shop.subscription.page import human_bytes


async def subscription_screen(
    ctx: AppContext, customer: Customer, lang: str
) -> tuple[str, InlineKeyboardMarkup]:
    access = await access_of(ctx.sessions, customer.id)
    if access.state is AccessState.NONE or access.token is None:
        return t(lang, "sub_none"), keyboards.no_subscription(lang, expired=False)
    if access.state is AccessState.EXPIRED:
        return t(lang, "sub_expired", date=date(access.expires_at)), keyboards.no_subscription(
            lang, expired=True
        )
    link = subscription_link(ctx.settings, access.token)
    text = t(
        lang,
        "sub_card",
        state=t(lang, "state_active" if access.state is AccessState.ACTIVE else "state_trial"),
        date=date(access.expires_at),
        days=access.days_left,
        servers=servers_text(lang, access),
        upload=human_bytes(access.upload),
        download=human_bytes(access.download),
        link=escape(link),
    )
    return text, keyboards.subscription(lang, link)


subscription_command, subscription_button = screen_handlers(subscription_screen)


async def qr(query: CallbackQuery, bot: Bot, ctx: AppContext, customer: Customer, lang: str) -> None:
    access = await access_of(ctx.sessions, customer.id)
    if not access.active or access.token is None:
        await alert(query, t(lang, "no_active_access"))
        return
    await query.answer()
    await send_qr(bot, customer.id, lang, subscription_link(ctx.settings, access.token))


async def rotate(query: CallbackQuery, ctx: AppContext, customer: Customer, lang: str) -> None:
    access = await access_of(ctx.sessions, customer.id)
    if not access.active:
        await alert(query, t(lang, "no_active_access"))
        return
    await show(query, t(lang, "rotate_confirm"), keyboards.rotate_confirm(lang))
    await query.answer()


async def rotate_confirmed(query: CallbackQuery, ctx: AppContext, customer: Customer, lang: str) -> None:
    access = await access_of(ctx.sessions, customer.id)
    if not access.active:
        await alert(query, t(lang, "no_active_access"))
        return
    token = await new_link(ctx.sessions, customer.id)
    link = subscription_link(ctx.settings, token)
    rotated = await access_of(ctx.sessions, customer.id)
    await show(query, access_text(lang, rotated, link, "link_rotated"), keyboards.access_card(lang, link))
    await query.answer()


def build() -> Router:
    router = Router(name="subscription")
    router.message.register(subscription_command, Command("subscription"))
    router.callback_query.register(subscription_button, Nav.filter(F.to == Screen.SUBSCRIPTION))
    router.callback_query.register(qr, Link.filter(F.action == LinkAction.QR))
    router.callback_query.register(rotate, Link.filter(F.action == LinkAction.ROTATE))
    router.callback_query.register(rotate_confirmed, Link.filter(F.action == LinkAction.ROTATE_CONFIRMED))
    return router
