"""Selling: the plan catalogue, the bot's checkout, payment providers behind one small interface,
webhook hints, and payment status transitions.

May use the shared modules, `shop.customers` (accounts, referral discounts and rewards),
`shop.storefront` (payment methods, names, requisites, the Stars rate) and start
the payment workflow. Never `api`, `bot`, `console`, `worker`, `sandbox` or the runtime.
"""
