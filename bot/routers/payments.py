"""Telegram Stars updates: pre-checkout (answered from the database within Telegram's 10 s),
`successful_payment` and `refunded_payment` (handed durably to workflows before the update is
acknowledged). The buy screens and the P2P buttons are in `buy` and `admin`.
"""

from __future__ import annotations

import asyncio
import logging

from aiogram import F, Router
from aiogram.types import Message, PreCheckoutQuery
from sqlalchemy.exc import SQLAlchemyError

from bot.texts import language_for, t
from shop.context import AppContext
from shop.payments import service
from shop.payments.stars import StarsCharge

log = logging.getLogger(__name__)
# Telegram cancels the purchase after 10 s; leave room for the answer's own round trip.
PRE_CHECKOUT_BUDGET = 7.0


async def pre_checkout(query: PreCheckoutQuery, ctx: AppContext) -> None:
    language = language_for(query.from_user.language_code)
    try:
        async with asyncio.timeout(PRE_CHECKOUT_BUDGET):
            problem = await service.stars_pre_checkout(
                ctx, query.invoice_payload, query.currency, query.total_amount, query.from_user.id
            )
    except (TimeoutError, SQLAlchemyError) as error:
        log.error("pre-checkout %s not checked in time: %s", query.id, error)
        problem = "pay_try_later"
    if problem:
        await query.answer(ok=False, error_message=t(language, problem))
    else:
        await query.answer(ok=True)


def _charge(message: Message, charge_id: str, payload: str, currency: str, total: int) -> StarsCharge | None:
    if message.from_user is None:
        return None
    return StarsCharge(
        charge_id=charge_id,
        payload=payload,
        currency=currency,
        total_amount=total,
        user_id=message.from_user.id,
    )


async def successful_payment(message: Message, ctx: AppContext) -> None:
    paid = message.successful_payment
    assert paid is not None
    charge = _charge(
        message, paid.telegram_payment_charge_id, paid.invoice_payload, paid.currency, paid.total_amount
    )
    if charge is not None:
        # Raises if it could not be recorded, so the update is not acknowledged as handled.
        await service.record_stars_charge(ctx, charge)


async def refunded_payment(message: Message, ctx: AppContext) -> None:
    refunded = message.refunded_payment
    assert refunded is not None
    charge = _charge(
        message,
        refunded.telegram_payment_charge_id,
        refunded.invoice_payload,
        refunded.currency,
        refunded.total_amount,
    )
    if charge is not None:
        await service.record_stars_refund(ctx, charge)


def build() -> Router:
    """A fresh router per dispatcher (aiogram attaches a router to one dispatcher only)."""
    router = Router(name="payments")
    router.pre_checkout_query.register(pre_checkout)
    router.message.register(successful_payment, F.successful_payment)
    router.message.register(refunded_payment, F.refunded_payment)
    return router
