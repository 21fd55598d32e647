"""The shop's domain, by capability (see docs/decisions.md, "Rooms"):

- `access/`: the entitlement ledger, grants, trial, hosts, provisioning, reconciliation, lifecycle;
- `customers/`: accounts, the customer as the bot sees them, operator actions, figures, referrals;
- `messaging/`: Telegram's pace, sending, reminders, broadcasts;
- `payments/`: plans, checkout, providers, hints, payment status;
- `storefront/`: the owner's settings kept in the database (texts, links, trial, referral terms);
- `operators/`: console sign-in, roles and the audit log of every operator action;
- `support/`: the support desk's tickets and their messages;
- `panel/` and `subscription/`: the 3x-ui client and the `/sub` renderers (adapters);
- `runtime/`: how the program runs (CLI, processes, embedded Temporal, demo, migrations).

The top level holds only what every capability shares: models, settings, the database, context,
secrets at rest, status transitions, search attributes, and the migrations.
"""
