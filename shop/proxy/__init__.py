"""The Telegram MTProto proxy product: MTG admin panels (hosts), their REST client, and provisioning
each customer's one proxy with the absolute expiry the ledger's proxy grants imply.

May use: shop top level (models, db, crypto, settings), shop.operators (audit), shop.access (the
ledger, the host registry), shop.panel.pool (its keyed locks), and start its workflows
(`workflows.proxy`).
"""
