"""The Telegram proxy screen: the customer's proxy (status, Connect, Copy) and the proxy plans.
Picking a plan continues in the buy router (same checkout, same payment workflow)."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import InlineKeyboardMarkup

from bot.callbacks import Nav, Screen
from bot.delivery import proxy_redirect
from bot.keyboards import proxy as keyboards
from bot.keyboards.menu import back
from bot.texts import date, t
from bot.ui import screen_handlers
from shop.context import AppContext
from shop.customers.users import Customer
from shop.models import Product
from shop.payments.plans import active_plans, has_paid
from shop.proxy.access import proxy_access, proxy_on_sale


async def proxy_screen(ctx: AppContext, customer: Customer, lang: str) -> tuple[str, InlineKeyboardMarkup]:
    if not await proxy_on_sale(ctx.sessions):
        return t(lang, "proxy_unavailable"), InlineKeyboardMarkup(inline_keyboard=[[back(lang)]])
    proxy = await proxy_access(ctx.sessions, customer.id)
    paid = await has_paid(ctx.sessions, customer.id)
    plans = await active_plans(ctx.sessions, paid_before=paid, product=Product.PROXY)
    lines = [t(lang, "proxy_title")]
    if proxy.active and proxy.link:
        lines.append(t(lang, "proxy_status_active", date=date(proxy.expires_at), days=proxy.days_left))
    elif proxy.active:
        lines.append(t(lang, "proxy_status_preparing"))
    elif proxy.ever:
        lines.append(t(lang, "proxy_status_expired", date=date(proxy.expires_at)))
    lines.append(t(lang, "proxy_pick_plan" if plans else "proxy_no_plans"))
    connect = proxy_redirect(ctx.settings, proxy.token) if proxy.active and proxy.token else ""
    return "\n\n".join(lines), keyboards.screen(lang, plans, proxy.link if connect else "", connect)


proxy_command, proxy_button = screen_handlers(proxy_screen)


def build() -> Router:
    router = Router(name="proxy")
    router.message.register(proxy_command, Command("proxy"))
    router.callback_query.register(proxy_button, Nav.filter(F.to == Screen.PROXY))
    return router
