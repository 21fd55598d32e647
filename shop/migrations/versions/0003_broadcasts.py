"""operator broadcasts and their deliveries; when a P2P transfer was claimed

Revision ID: 0003_broadcasts
Revises: 0002_expiry
Create Date: 2026-11-25 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shop.models

revision: str = "0003_broadcasts"
down_revision: str | None = "0002_expiry"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _status(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, length=16)


def upgrade() -> None:
    op.create_table(
        "broadcasts",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("operator_id", sa.BigInteger(), nullable=False),
        sa.Column("source_chat_id", sa.BigInteger(), nullable=False),
        sa.Column("source_message_id", sa.BigInteger(), nullable=False),
        sa.Column("button_text", sa.String(length=64), nullable=True),
        sa.Column("button_url", sa.Text(), nullable=True),
        sa.Column(
            "status", _status("broadcast_status", "draft", "running", "finished", "canceled"), nullable=False
        ),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("skipped_banned", sa.Integer(), nullable=False),
        sa.Column("known_blocked", sa.Integer(), nullable=False),
        sa.Column("created_at", shop.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("started_at", shop.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", shop.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reported_at", shop.models.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_broadcasts")),
    )
    op.create_table(
        "broadcast_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("broadcast_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("status", _status("delivery_status", "pending", "sent", "failed", "blocked"), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("sent_at", shop.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["broadcast_id"],
            ["broadcasts.id"],
            name=op.f("fk_broadcast_deliveries_broadcast_id_broadcasts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_broadcast_deliveries")),
        sa.UniqueConstraint(
            "broadcast_id", "user_id", name=op.f("uq_broadcast_deliveries_broadcast_id_user_id")
        ),
    )
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("transfer_claimed_at", shop.models.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_column("transfer_claimed_at")
    op.drop_table("broadcast_deliveries")
    op.drop_table("broadcasts")
