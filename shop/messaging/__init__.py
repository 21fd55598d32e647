"""Messaging customers: Telegram's pace, sending one message with an outcome instead of an
exception, expiry reminders (which mark is due, claimed once) and operator broadcasts.

What a message says lives in `bot/` (texts and keyboards); this package decides when, to whom and
how fast, and records what was sent. May use the shared modules, `shop.access.ledger` (which column
holds a product's expiry) and start its workflows (`workflows.broadcast`). Never `api`, `bot`,
`console`, `worker`, `sandbox` or the runtime.
"""
