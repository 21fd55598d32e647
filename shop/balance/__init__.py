"""The customer's RUB balance: a ledger of money (top-ups, purchases, referral rewards, operator
adjustments, refunds), one signed row per movement, each keyed by its source so it applies once.
The balance is the sum of the rows; there is no stored number to drift from them.

May use the shared modules, `shop.customers` (the referral balance, moved here on request) and
`shop.operators` (the audit log). Never `api`, `bot`, `console`, `worker`, `sandbox` or the runtime.
"""
