"""Access: who may connect, until when, and making the panels agree.

Owns the entitlement ledger (every grant keyed by its source), grants that are not payments
(trial, operator adjustments), the hosts (3x-ui panels) and provisioning a subscription onto them,
reconciliation with what the panels hold, and the lifecycle of ended access.

May use the shared modules (`shop.models`, `shop.db`, `shop.settings`, `shop.context`,
`shop.crypto`), `shop.panel`, `shop.customers.accounts` (the subscription row), `shop.storefront`
(the owner's trial settings), and start its workflows (`workflows.grant`). Never `api`, `bot`,
`console`, `worker`, `sandbox` or the runtime.
"""
