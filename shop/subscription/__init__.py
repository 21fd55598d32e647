"""The `/sub/<token>` subscription: cached links read from the database, rendered per client app.

Nothing here calls a panel: provisioning caches each host's `vless://` link in `panel_clients`,
and every format is rendered from those rows (see `docs/subscription.md`). Also the one-tap import
links per VPN app. May use `shop.models` only; never `api`, `bot`, `console`, `worker` or `sandbox`.
"""
