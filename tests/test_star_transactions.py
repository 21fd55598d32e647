"""getStarTransactions in the Telegram sandbox, and the sweep's reader of it over real HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from aiogram import Bot

from bot.main import build_bot
from sandbox.telegram import TelegramSandbox
from shop.payments.star_transactions import StarTransactions
from shop.settings import load_settings

START = 1_700_000_000  # unix seconds of the first charge; one charge a minute after it


@pytest.fixture
async def telegram() -> AsyncIterator[TelegramSandbox]:
    async with TelegramSandbox() as sandbox:
        sandbox.add_user(1001, "Buyer")
        yield sandbox


@pytest.fixture
async def bot(telegram: TelegramSandbox) -> AsyncIterator[Bot]:
    settings = load_settings(
        _env_file=None, telegram_bot_token=telegram.token, telegram_api_url=telegram.api_url
    )
    bot = build_bot(settings)
    yield bot
    await bot.session.close()


async def _charges(telegram: TelegramSandbox, count: int) -> list[str]:
    ids = []
    for index in range(count):
        charge = await telegram.successful_payment(1001, f"order-{index}", 10 + index, lost=True)
        charge.date = START + 60 * index
        telegram.world.star_transactions[-1]["date"] = charge.date
        ids.append(charge.id)
    return ids


async def test_the_ledger_pages_by_offset_and_limit_oldest_first(telegram: TelegramSandbox, bot: Bot) -> None:
    ids = await _charges(telegram, 5)
    await bot.refund_star_payment(1001, ids[1])
    page = await bot.get_star_transactions(offset=1, limit=2)
    assert [t.id for t in page.transactions] == ids[1:3]
    incoming = page.transactions[0]
    assert incoming.amount == 11 and incoming.source is not None and incoming.receiver is None
    assert incoming.source.transaction_type == "invoice_payment"  # type: ignore[union-attr]
    assert incoming.source.invoice_payload == "order-1"  # type: ignore[union-attr]
    assert incoming.source.user.id == 1001  # type: ignore[union-attr]
    refund = (await bot.get_star_transactions(offset=5)).transactions
    assert [(t.id, t.source, t.receiver is not None) for t in refund] == [(ids[1], None, True)]
    # Out-of-range limits are clamped as Telegram does (0 means the default, 100); an offset past
    # the end is an empty page.
    assert len((await bot.get_star_transactions(limit=-1)).transactions) == 1
    assert len((await bot.get_star_transactions(limit=0)).transactions) == 6
    assert len((await bot.get_star_transactions(offset=99)).transactions) == 0


async def test_charges_since_skips_old_and_refunded_ones_in_few_calls(
    telegram: TelegramSandbox, bot: Bot
) -> None:
    ids = await _charges(telegram, 450)
    for refunded in (ids[400], ids[10]):
        await bot.refund_star_payment(1001, refunded)
    since = datetime.fromtimestamp(START + 60 * 390, UTC)
    before = len(telegram.calls("getStarTransactions"))
    charges = await StarTransactions(bot).charges_since(since)
    assert [c.charge_id for c in charges] == ids[390:400] + ids[401:450]
    assert charges[0].payload == "order-390" and charges[0].total_amount == 400 and charges[0].user_id == 1001
    calls = len(telegram.calls("getStarTransactions")) - before
    assert calls <= 8, f"{calls} pages read for 5 pages of history"
