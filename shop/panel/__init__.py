"""The 3x-ui panel client (v2.x, v3.0, v3.1+), client identities and share links.

An adapter: it knows the panel's HTTP API and nothing of customers or payments. May use
`shop.models` (hosts), `shop.crypto`, `shop.metrics.counters` (calls per panel) and nothing else
in the shop.
"""
