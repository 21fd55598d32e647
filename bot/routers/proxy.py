"""The Telegram proxy screen: the customer's proxy (status, Connect, Copy), its free trial, and the
proxy plans. Picking a plan continues in the buy router (same checkout, same payment workflow)."""

from __future__ import annotations

import logging

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import CallbackQuery, InlineKeyboardMarkup

from bot.callbacks import Nav, Screen
from bot.delivery import proxy_card, proxy_redirect
from bot.keyboards import proxy as keyboards
from bot.keyboards.menu import back
from bot.texts import date, t
from bot.ui import alert, screen_handlers, show
from shop.context import AppContext
from shop.customers.users import Customer
from shop.models import Product
from shop.payments.plans import active_plans, has_paid
from shop.proxy.access import proxy_access, proxy_on_sale
from shop.proxy.trial import proxy_trial_refusal, start_proxy_trial

log = logging.getLogger(__name__)


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
    trial = 0 if await proxy_trial_refusal(ctx, customer.id) else (await ctx.storefront.current()).trial_days
    return "\n\n".join(lines), keyboards.screen(lang, plans, proxy.link if connect else "", connect, trial)


proxy_command, proxy_button = screen_handlers(proxy_screen)


async def take_proxy_trial(query: CallbackQuery, ctx: AppContext, customer: Customer, lang: str) -> None:
    """The proxy's free trial, once; the card when the proxy is up within a few seconds, else a
    "being set up" note (the link then shows on /proxy)."""
    refusal = await proxy_trial_refusal(ctx, customer.id)
    if refusal is not None:
        await alert(query, t(lang, f"proxy_trial_{refusal.value}"))
        return
    try:
        ready = await start_proxy_trial(ctx, customer.id)
    except Exception:
        log.exception("proxy trial for %s failed", customer.id)
        await alert(query, t(lang, "trial_failed"))
        return
    await query.answer()
    proxy = await proxy_access(ctx.sessions, customer.id)
    if ready and proxy.link:
        text, markup = proxy_card(lang, proxy, ctx.settings, "heading_proxy_trial")
    else:
        text, markup = t(lang, "proxy_status_preparing"), keyboards.preparing(lang)
    await show(query, text, markup)


def build() -> Router:
    router = Router(name="proxy")
    router.message.register(proxy_command, Command("proxy"))
    router.callback_query.register(proxy_button, Nav.filter(F.to == Screen.PROXY))
    router.callback_query.register(take_proxy_trial, Nav.filter(F.to == Screen.PROXY_TRIAL))
    return router
