"""promo codes, the RUB balance, gifts; payments.purpose; plan_id nullable for top-ups

Revision ID: 0009_promo_balance_gifts
Revises: 0007_support_desk
Create Date: 2026-12-07 09:00:06.318456
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shop.models

revision: str = '0009_promo_balance_gifts'
down_revision: str | None = '0008_payment_timeline'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('promo_codes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.Enum('percent', 'fixed', 'bonus_days', 'free_days', name='promo_kind', native_enum=False, length=16), nullable=False),
    sa.Column('value', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('max_uses', sa.Integer(), nullable=True),
    sa.Column('used', sa.Integer(), server_default=sa.text('0'), nullable=False),
    sa.Column('once_per_customer', sa.Boolean(), nullable=False),
    sa.Column('first_purchase_only', sa.Boolean(), nullable=False),
    sa.Column('valid_from', shop.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('valid_until', shop.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('plan_ids', sa.String(length=256), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('created_at', shop.models.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('used >= 0 AND (max_uses IS NULL OR used <= max_uses)', name='ck_promo_codes_used'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_promo_codes')),
    sa.UniqueConstraint('code', name=op.f('uq_promo_codes_code'))
    )
    op.create_table('balance_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.Enum('topup', 'purchase', 'referral', 'adjustment', 'refund', name='balance_kind', native_enum=False, length=16), nullable=False),
    sa.Column('amount', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('source_key', sa.String(length=128), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('created_at', shop.models.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount <> 0', name='ck_balance_entries_amount_nonzero'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_balance_entries_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_balance_entries')),
    sa.UniqueConstraint('source_key', name=op.f('uq_balance_entries_source_key'))
    )
    with op.batch_alter_table('balance_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_balance_entries_user_id'), ['user_id'], unique=False)

    op.create_table('promo_choices',
    sa.Column('user_id', sa.BigInteger(), nullable=False),
    sa.Column('code_id', sa.Integer(), nullable=False),
    sa.Column('chosen_at', shop.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['code_id'], ['promo_codes.id'], name=op.f('fk_promo_choices_code_id_promo_codes'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_promo_choices_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_promo_choices'))
    )
    op.create_table('gifts',
    sa.Column('code', sa.String(length=24), nullable=False),
    sa.Column('payment_id', sa.String(length=40), nullable=False),
    sa.Column('payer_id', sa.BigInteger(), nullable=False),
    sa.Column('plan_name', sa.String(length=64), nullable=False),
    sa.Column('days', sa.Integer(), nullable=False),
    sa.Column('worth', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('redeemed_by', sa.BigInteger(), nullable=True),
    sa.Column('redeemed_at', shop.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('refunded_at', shop.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', shop.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['payer_id'], ['users.id'], name=op.f('fk_gifts_payer_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['payment_id'], ['payments.id'], name=op.f('fk_gifts_payment_id_payments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_gifts')),
    sa.UniqueConstraint('payment_id', name=op.f('uq_gifts_payment_id'))
    )
    with op.batch_alter_table('gifts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_gifts_payer_id'), ['payer_id'], unique=False)

    op.create_table('promo_uses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.BigInteger(), nullable=False),
    sa.Column('payment_id', sa.String(length=40), nullable=True),
    sa.Column('holder', sa.BigInteger(), nullable=True),
    sa.Column('discount', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('bonus_days', sa.Integer(), nullable=False),
    sa.Column('created_at', shop.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('released_at', shop.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['code_id'], ['promo_codes.id'], name=op.f('fk_promo_uses_code_id_promo_codes'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['payment_id'], ['payments.id'], name=op.f('fk_promo_uses_payment_id_payments'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_promo_uses_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_promo_uses')),
    sa.UniqueConstraint('code_id', 'holder', name=op.f('uq_promo_uses_code_id_holder')),
    sa.UniqueConstraint('payment_id', name=op.f('uq_promo_uses_payment_id'))
    )
    with op.batch_alter_table('promo_uses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_promo_uses_code_id'), ['code_id'], unique=False)

    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('purpose', sa.Enum('subscription', 'topup', 'gift', name='payment_purpose', native_enum=False, length=16), server_default='subscription', nullable=False))
        batch_op.alter_column('plan_id',
               existing_type=sa.INTEGER(),
               nullable=True)



def downgrade() -> None:
    # Top-ups have no plan: they cannot outlive a schema where every payment has one.
    op.execute("DELETE FROM payments WHERE plan_id IS NULL")
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.alter_column('plan_id',
               existing_type=sa.INTEGER(),
               nullable=False)
        batch_op.drop_column('purpose')

    with op.batch_alter_table('promo_uses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_promo_uses_code_id'))

    op.drop_table('promo_uses')
    with op.batch_alter_table('gifts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_gifts_payer_id'))

    op.drop_table('gifts')
    op.drop_table('promo_choices')
    with op.batch_alter_table('balance_entries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_balance_entries_user_id'))

    op.drop_table('balance_entries')
    op.drop_table('promo_codes')
