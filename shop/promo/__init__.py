"""Promo codes: the owner's codes (percent or fixed amount off, bonus days with a purchase, free days
without one), the customer's chosen code, and the uses that count against each code's limits.

A use is reserved when the payment that carries the code is minted (the discount is fixed into its
amount then, like the referral discount), by a conditional UPDATE of the code's counter, so a limit
holds under any concurrency; a payment that expires, is cancelled or refunded gives its use back.

May use the shared modules, `shop.access` (the ledger, for free-day codes), `shop.customers`
(the customer's subscription row) and
`shop.operators` (the audit log). Never `api`, `bot`, `console`, `worker`, `sandbox` or the runtime.
"""
