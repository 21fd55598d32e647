"""Which payment a webhook names, for the API: duplicates of closed payments answered from memory,
the rest read on a small connection pool of the lookup's own.

A provider redelivers a webhook for hours, and a burst of payments brings each of its webhooks
several times; most of them name a payment already closed. A closed payment stays closed for a
hint's purposes (every final status answers "closed", whoever closed it and in whichever process),
so this process remembers the closed ones it has seen without ever asking again. Lookups that do
reach the database use their own pool, so they never queue behind the worker's and the console's
sessions: the webhook answers at the speed of the route.

Copies of one event of a payment still open come together (a provider's duplicates, a redelivery
racing the first answer): the first copy looks the payment up, writes its timeline line and
signals the workflow, and the copies that come while it does share its answer. Nothing is lost by
it: the workflow looks at the provider after the signal it holds, and the provider already said
what the copies say. A copy after that goes through as any hint does (and, once the payment is
closed, is remembered as above).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable

from shop.db import SessionFactory, create_engine, session_factory
from shop.models import PaymentMethod
from shop.payments.hints import FoundPayment, find_payment
from shop.payments.status import FINAL

# Remembered closed payments (a key is ~100 bytes): far more than a day of redeliveries holds.
REMEMBERED = 100_000
POOL = 4
Answer = tuple[int, str]  # the HTTP status and the detail the route answers with


class HintLookup:
    def __init__(self, db_url: str, remembered: int = REMEMBERED) -> None:
        self.engine = create_engine(db_url, pool_size=POOL, max_overflow=0)
        self.sessions: SessionFactory = session_factory(self.engine)
        self.remembered = remembered
        self._closed: OrderedDict[tuple[PaymentMethod, str], None] = OrderedDict()
        self._flights: dict[Hashable, asyncio.Future[Answer]] = {}

    def closed(self, method: PaymentMethod, provider_payment_id: str | None) -> bool:
        """Known closed without a query: the provider's id of a payment seen closed before."""
        key = (method, provider_payment_id or "")
        if key not in self._closed:
            return False
        self._closed.move_to_end(key)
        return True

    async def find(
        self, method: PaymentMethod, provider_payment_id: str | None, order_ref: str | None
    ) -> FoundPayment | None:
        payment = await find_payment(self.sessions, method, provider_payment_id, order_ref)
        # Only by the provider's id, the key `find_payment` prefers: a hint naming that id always
        # means this payment.
        if payment is not None and payment.status in FINAL and payment.provider_payment_id:
            self._closed[(method, payment.provider_payment_id)] = None
            if len(self._closed) > self.remembered:
                self._closed.popitem(last=False)
        return payment

    async def once(self, event: Hashable, deliver: Callable[[], Awaitable[Answer]]) -> Answer:
        """`deliver`'s answer for `event`, shared by the copies that come while it runs (see above)."""
        flight = self._flights.get(event)
        if flight is None:
            flight = asyncio.ensure_future(deliver())
            self._flights[event] = flight
            flight.add_done_callback(lambda _: self._flights.pop(event, None))
        # A copy whose client hangs up is cancelled; the delivery goes on for the others.
        return await asyncio.shield(flight)

    async def close(self) -> None:
        await self.engine.dispose()
