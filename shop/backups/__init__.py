"""Backups of the shop's database: a consistent copy with a manifest (checksum, schema revision,
time, shop version, row count and digest of every table), and the steps of putting one back.

SQLite is copied with SQLite's online backup API (a consistent file while the shop writes);
PostgreSQL with `pg_dump --format=custom` inside an exported snapshot, so the digests in the
manifest describe exactly what the dump holds. The panel passwords inside stay encrypted with
DATA_DIR/secret.key (or ENCRYPTION_KEY), which is *not* in the backup: keep it too.

Deciding whether the shop is running, migrating a restored database and the command line live in
`shop.runtime.backups_cli`. May use the shared modules and `shop.operators` (the audit log).
Never `api`, `bot`, `console`, `worker`, `sandbox` or the runtime.
"""
