"""payment timeline: an append-only log of each payment's steps; operator action ids; indexes for
the console's customer and payment lists

Revision ID: 0008_payment_timeline
Revises: 0007_support_desk
Create Date: 2026-12-07 09:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shop.models

revision: str = '0008_payment_timeline'
down_revision: str | None = '0007_support_desk'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('payment_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('payment_id', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('created_at', shop.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['payment_id'], ['payments.id'], name=op.f('fk_payment_events_payment_id_payments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_events'))
    )
    op.create_index('ix_payment_events_payment_id_id', 'payment_events', ['payment_id', 'id'], unique=False)
    op.create_table('operator_actions',
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('operator_id', sa.BigInteger(), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('target', sa.String(length=128), nullable=False),
    sa.Column('created_at', shop.models.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_operator_actions'))
    )
    op.create_index('ix_users_created_at_id', 'users', ['created_at', 'id'], unique=False)
    op.create_index('ix_users_lower_username', 'users', [sa.text('lower(username)')], unique=False)
    if op.get_bind().dialect.name == 'postgresql':
        # A name searched by any part of it; pg_trgm ships with PostgreSQL (a trusted extension).
        op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')
        op.create_index('ix_users_name_trgm', 'users', [sa.text('lower(full_name) gin_trgm_ops')], unique=False, postgresql_using='gin')
    else:
        op.create_index('ix_users_name_trgm', 'users', [sa.text('lower(full_name)')], unique=False)
    op.create_index('ix_panel_clients_email', 'panel_clients', ['email'], unique=False)
    op.create_index('ix_payments_created_at_id', 'payments', ['created_at', 'id'], unique=False)
    op.create_index('ix_payments_method_created_at', 'payments', ['method', 'created_at'], unique=False)
    op.create_index('ix_audit_log_target', 'audit_log', ['target'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_audit_log_target', table_name='audit_log')
    op.drop_index('ix_payments_method_created_at', table_name='payments')
    op.drop_index('ix_payments_created_at_id', table_name='payments')
    op.drop_index('ix_panel_clients_email', table_name='panel_clients')
    op.drop_index('ix_users_name_trgm', table_name='users')
    op.drop_index('ix_users_lower_username', table_name='users')
    op.drop_index('ix_users_created_at_id', table_name='users')
    op.drop_table('operator_actions')
    op.drop_index('ix_payment_events_payment_id_id', table_name='payment_events')
    op.drop_table('payment_events')
