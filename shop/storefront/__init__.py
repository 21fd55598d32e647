"""The storefront: what the owner sets day to day, stored in the database (see docs/console.md).

Owns the owner's settings (the shop's name and logo, its texts per language, links, forced channel
subscription, trial, referral terms, payment methods and their names, reminder marks, the Stars
rate, P2P requisites): typed and validated, the environment's value as the default, each reporting
where its value comes from, and seen by every process within seconds of a change. Also the
dashboard's figures, which read every capability's tables.

May use the shared modules, `shop.operators` (every change lands in the audit log) and, for the
dashboard, `shop.customers.stats`, `shop.access.reconcile` (reports) and `shop.metrics` (the
figures /metrics serves). Never `api`, `bot`,
`console`, `worker`, `sandbox` or the runtime. The payments, access and customers capabilities
read their settings from here.
"""
