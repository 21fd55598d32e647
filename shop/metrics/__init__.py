"""Metrics: the shop's service-level figures for Prometheus (`/metrics`) and the console's dashboard.

Two kinds, by where the truth lives (docs/metrics.md):
- **from the records** (`records`): payments by outcome, paid but not delivered now, the time from
  payment to delivered access, reminders by outcome. Read from the database when scraped, so every
  API process answers the same whatever process did the work, and a restart loses nothing.
- **counted in the process** (`counters`): webhook outcomes and `/sub` requests (the API process
  sees them) and panel calls per host (counted in whichever process calls the panel: all of them
  under `vpnshop up`, which runs every role in one process).

May use the shared modules and `shop.customers` (the paid statuses). Never `api`, `bot`, `console`,
`worker`, `sandbox` or the runtime.
"""
