"""owner settings stored in the database (shop.storefront); indexes for the dashboard

Revision ID: 0006_owner_settings
Revises: 0005_console
Create Date: 2026-12-07 06:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shop.models

revision: str = "0006_owner_settings"
down_revision: str | None = "0005_console"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As shop.models.NEEDS_ATTENTION when this revision was written.
ATTENTION = (
    "status IN ('review', 'succeeded') OR (method = 'p2p' AND status = 'pending' AND transfer_claimed_at IS NOT NULL)"
)


def upgrade() -> None:
    op.create_table(
        "shop_settings",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("updated_at", shop.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_shop_settings")),
    )
    op.create_index("ix_payments_paid_at", "payments", ["paid_at"], unique=False)
    op.create_index(
        "ix_payments_attention",
        "payments",
        ["status"],
        unique=False,
        postgresql_where=sa.text(ATTENTION),
        sqlite_where=sa.text(ATTENTION),
    )
    op.create_index("ix_users_created_at", "users", ["created_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_users_created_at", table_name="users")
    op.drop_index("ix_payments_attention", table_name="payments")
    op.drop_index("ix_payments_paid_at", table_name="payments")
    op.drop_table("shop_settings")
