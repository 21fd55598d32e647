"""referral program: rewards and withdrawals ledgers, the discount fixed on each payment

Revision ID: 0004_referrals
Revises: 0003_broadcasts
Create Date: 2026-11-22 06:52:01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shop.models

revision: str = "0004_referrals"
down_revision: str | None = "0003_broadcasts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "withdrawals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "requested", "approved", "declined", name="withdrawal_status", native_enum=False, length=16
            ),
            nullable=False,
        ),
        sa.Column("decided_by", sa.BigInteger(), nullable=True),
        sa.Column("created_at", shop.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_at", shop.models.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("amount > 0", name="ck_withdrawals_amount_positive"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_withdrawals_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_withdrawals")),
    )
    with op.batch_alter_table("withdrawals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_withdrawals_user_id"), ["user_id"], unique=False)
        batch_op.create_index(
            "uq_withdrawals_open_user_id",
            ["user_id"],
            unique=True,
            postgresql_where=sa.text("status = 'requested'"),
            sqlite_where=sa.text("status = 'requested'"),
        )

    op.create_table(
        "referral_rewards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("payment_id", sa.String(length=40), nullable=False),
        sa.Column("referrer_id", sa.BigInteger(), nullable=False),
        sa.Column("invitee_id", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column("created_at", shop.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("notified_at", shop.models.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint("amount > 0", name="ck_referral_rewards_amount_positive"),
        sa.ForeignKeyConstraint(
            ["invitee_id"],
            ["users.id"],
            name=op.f("fk_referral_rewards_invitee_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"],
            ["payments.id"],
            name=op.f("fk_referral_rewards_payment_id_payments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["referrer_id"],
            ["users.id"],
            name=op.f("fk_referral_rewards_referrer_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_referral_rewards")),
        sa.UniqueConstraint("payment_id", name=op.f("uq_referral_rewards_payment_id")),
    )
    with op.batch_alter_table("referral_rewards", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_referral_rewards_referrer_id"), ["referrer_id"], unique=False)

    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("discount_percent", sa.Integer(), server_default=sa.text("0"), nullable=False)
        )
        batch_op.add_column(sa.Column("price_rub", sa.Numeric(precision=12, scale=2), nullable=True))
    # Payments minted before had no discount: worth their amount, or (Stars) their plan's RUB price.
    op.execute("UPDATE payments SET price_rub = amount WHERE currency = 'RUB'")
    op.execute(
        "UPDATE payments SET price_rub = (SELECT plans.price FROM plans WHERE plans.id = payments.plan_id"
        " AND plans.currency = 'RUB') WHERE price_rub IS NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_column("price_rub")
        batch_op.drop_column("discount_percent")

    with op.batch_alter_table("referral_rewards", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_referral_rewards_referrer_id"))

    op.drop_table("referral_rewards")
    with op.batch_alter_table("withdrawals", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_withdrawals_open_user_id",
            postgresql_where=sa.text("status = 'requested'"),
            sqlite_where=sa.text("status = 'requested'"),
        )
        batch_op.drop_index(batch_op.f("ix_withdrawals_user_id"))

    op.drop_table("withdrawals")
