"""Support desk: tickets (one per customer, with its forum topic in the operators' group), every
message of a ticket with its delivery result and idempotency key, the customer's summary card and
the operators' saved answers. Telegram itself stays in bot/support/.

May use: shop.customers (who the customer is, their access and referrals), the shared top level.
"""
