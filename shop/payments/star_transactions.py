"""Telegram's own Stars ledger (`getStarTransactions`), read by the payment sweep: the charges
made recently, so one whose `successful_payment` never reached us is still delivered.

Worker side only (it speaks to Telegram through aiogram); workflows never import it.
"""

from __future__ import annotations

from datetime import datetime

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import StarTransaction, TransactionPartnerUser

from shop.payments.base import ProviderError
from shop.payments.stars import CURRENCY, StarsCharge

PAGE = 100  # the Bot API's largest page


class StarTransactions:
    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def _page(self, index: int) -> list[StarTransaction]:
        try:
            found = await self.bot.get_star_transactions(offset=index * PAGE, limit=PAGE)
        except TelegramAPIError as error:
            raise ProviderError(f"getStarTransactions: {error}") from None
        return list(found.transactions)

    async def _before(self, index: int, since: datetime) -> bool:
        page = await self._page(index)
        return bool(page) and page[-1].date < since

    async def _first_page(self, since: datetime) -> int:
        """The first page reaching `since`. The ledger is oldest first and pages only by offset, so
        pages are probed 0, 1, 3, 7, ... then halved: a few calls however long the history is."""
        low, high = 0, 1  # every page before `low` ends before `since`
        while await self._before(high - 1, since):
            low, high = high, high * 2
        high -= 1
        while low < high:
            middle = (low + high) // 2
            if await self._before(middle, since):
                low = middle + 1
            else:
                high = middle
        return low

    async def charges_since(self, since: datetime) -> list[StarsCharge]:
        """Invoice payments from users made at or after `since` and not refunded, oldest first."""
        index = await self._first_page(since)
        charges: dict[str, StarsCharge] = {}
        refunded: set[str] = set()
        while True:
            page = await self._page(index)
            for item in page:
                if isinstance(item.receiver, TransactionPartnerUser):
                    refunded.add(item.id)  # a refund is an outgoing transaction with the charge's id
                source = item.source
                if (
                    isinstance(source, TransactionPartnerUser)
                    and source.transaction_type == "invoice_payment"
                    and source.invoice_payload
                    and item.date >= since
                ):
                    charges[item.id] = StarsCharge(
                        charge_id=item.id,
                        payload=source.invoice_payload,
                        currency=CURRENCY,
                        total_amount=item.amount,
                        user_id=source.user.id,
                    )
            if len(page) < PAGE:
                return [charge for charge_id, charge in charges.items() if charge_id not in refunded]
            index += 1
