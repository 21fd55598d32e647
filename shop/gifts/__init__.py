"""Gift subscriptions: a plan bought for someone else becomes a code (and a `start=gift_CODE`
link) for the payer to pass on. The first customer to open it claims it (a conditional UPDATE:
one winner however many try at once) and gets the plan's days as a grant keyed by the gift. An
operator may refund an unclaimed gift (to the payer's balance).

May use the shared modules, `shop.access` (the ledger), `shop.customers` (the subscription row),
`shop.balance` (refunds) and
`shop.operators` (the audit log). Never `api`, `bot`, `console`, `worker`, `sandbox` or the runtime.
"""
