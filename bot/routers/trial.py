"""The free trial: once, before the first purchase, through GrantAccessWorkflow; operators are told."""

from __future__ import annotations

import logging
from html import escape

from aiogram import Bot, F, Router
from aiogram.types import CallbackQuery

from bot.callbacks import Nav, Screen
from bot.delivery import send_access
from bot.notify import notify_admins
from bot.texts import t
from bot.ui import alert, show
from shop.access.trial import TrialUnavailable, start_trial, trial_refusal
from shop.context import AppContext
from shop.customers.users import Customer, access_of

log = logging.getLogger(__name__)


async def take_trial(query: CallbackQuery, bot: Bot, ctx: AppContext, customer: Customer, lang: str) -> None:
    refusal = await trial_refusal(ctx.sessions, await ctx.storefront.current(), customer.id)
    if refusal is not None:
        await alert(query, t(lang, f"trial_{refusal.value}"))
        return
    try:
        await start_trial(ctx, customer.id)
    except TrialUnavailable as refused:
        await alert(query, t(lang, f"trial_{refused.reason.value}"))
        return
    except Exception:
        log.exception("trial for %s failed", customer.id)
        await alert(query, t(lang, "trial_failed"))
        return
    await query.answer()
    await show(query, t(lang, "heading_trial"))
    access = await access_of(ctx.sessions, customer.id)
    await send_access(bot, customer.id, lang, access, ctx.settings, "heading_trial")
    await notify_admins(
        bot,
        ctx,
        "admin_trial_taken",
        user=escape(customer.mention),
        id=customer.id,
        days=(await ctx.storefront.current()).trial_days,
    )


def build() -> Router:
    router = Router(name="trial")
    router.callback_query.register(take_trial, Nav.filter(F.to == Screen.TRIAL))
    return router
