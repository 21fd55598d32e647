"""Customers: accounts and their subscription row, the customer as the bot and operators see them,
operator actions on a customer (find, days, bans), the operator's figures, and the referral program.

May use the shared modules, `shop.access` (grants, provisioning), `shop.storefront` (the owner's
referral terms) and start workflows. Never `api`,
`bot`, `console`, `worker`, `sandbox` or the runtime.
"""
