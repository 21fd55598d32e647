"""How the program runs, apart from what the shop does: the `vpnshop` CLI, the process roles and
their supervisor, the embedded Temporal dev server, the demo, and running the migrations.

May use everything (the domain, `api`, `bot`, `worker`, and `sandbox` for the demo). Nothing
outside `shop/runtime/` imports it, except tests and benchmarks that start the shop.
"""
