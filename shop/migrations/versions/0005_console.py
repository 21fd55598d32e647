"""operator console: audit log, sign-in nonces, plan names per language, methods and audience, each
host's last reconciliation report

Revision ID: 0005_console
Revises: 0004_referrals
Create Date: 2026-12-07 06:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shop.models

revision: str = "0005_console"
down_revision: str | None = "0004_referrals"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.BigInteger(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("target", sa.String(length=128), nullable=False),
        sa.Column("before", sa.Text(), nullable=True),
        sa.Column("after", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", shop.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_log_actor_id"), ["actor_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_log_created_at"), ["created_at"], unique=False)

    op.create_table(
        "console_signins",
        sa.Column("nonce", sa.String(length=32), nullable=False),
        sa.Column("operator_id", sa.BigInteger(), nullable=False),
        sa.Column("used_at", shop.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("session_expires_at", shop.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("signed_out_at", shop.models.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("nonce", name=op.f("pk_console_signins")),
    )

    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.add_column(sa.Column("name_en", sa.String(length=64), server_default="", nullable=False))
        batch_op.add_column(sa.Column("methods", sa.String(length=64), server_default="", nullable=False))
        batch_op.add_column(
            sa.Column(
                "audience",
                sa.Enum("any", "first", "renewal", name="plan_audience", native_enum=False, length=16),
                server_default="any",
                nullable=False,
            )
        )


    with op.batch_alter_table("hosts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("last_reconcile_at", shop.models.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("last_reconcile_report", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("hosts", schema=None) as batch_op:
        batch_op.drop_column("last_reconcile_report")
        batch_op.drop_column("last_reconcile_at")
    with op.batch_alter_table("plans", schema=None) as batch_op:
        batch_op.drop_column("audience")
        batch_op.drop_column("methods")
        batch_op.drop_column("name_en")
    op.drop_table("console_signins")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_created_at"))
        batch_op.drop_index(batch_op.f("ix_audit_log_actor_id"))
    op.drop_table("audit_log")
