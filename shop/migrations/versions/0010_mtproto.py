"""mtproto proxy: MTG hosts, proxy clients, plan and grant product, proxy expiry

Revision ID: 0010_mtproto
Revises: 0007_support_desk
Create Date: 2026-12-07 08:58:39
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shop.models

revision: str = '0010_mtproto'
down_revision: str | None = '0009_promo_balance_gifts'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('mtg_hosts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('panel_url', sa.String(length=512), nullable=False),
    sa.Column('username', sa.String(length=128), nullable=False),
    sa.Column('password_encrypted', sa.Text(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('sort_order', sa.Integer(), nullable=False),
    sa.Column('created_at', shop.models.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mtg_hosts')),
    sa.UniqueConstraint('name', name=op.f('uq_mtg_hosts_name'))
    )
    op.create_table('proxy_clients',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subscription_id', sa.Integer(), nullable=False),
    sa.Column('host_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('node', sa.String(length=64), nullable=False),
    sa.Column('link', sa.Text(), nullable=False),
    sa.Column('expiry_written', shop.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('enabled_written', sa.Boolean(), nullable=False),
    sa.Column('needs_reconcile', sa.Boolean(), nullable=False),
    sa.Column('last_sync_at', shop.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', shop.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['host_id'], ['mtg_hosts.id'], name=op.f('fk_proxy_clients_host_id_mtg_hosts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['subscription_id'], ['subscriptions.id'], name=op.f('fk_proxy_clients_subscription_id_subscriptions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_proxy_clients')),
    sa.UniqueConstraint('subscription_id', name=op.f('uq_proxy_clients_subscription_id'))
    )
    with op.batch_alter_table('proxy_clients', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_proxy_clients_host_id'), ['host_id'], unique=False)

    with op.batch_alter_table('grants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('product', sa.Enum('vpn', 'proxy', name='product', native_enum=False, length=16), server_default='vpn', nullable=False))

    with op.batch_alter_table('plans', schema=None) as batch_op:
        batch_op.add_column(sa.Column('product', sa.Enum('vpn', 'proxy', name='product', native_enum=False, length=16), server_default='vpn', nullable=False))

    with op.batch_alter_table('subscriptions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('proxy_expires_at', shop.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_subscriptions_proxy_expires_at'), ['proxy_expires_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('subscriptions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_subscriptions_proxy_expires_at'))
        batch_op.drop_column('proxy_expires_at')

    with op.batch_alter_table('plans', schema=None) as batch_op:
        batch_op.drop_column('product')

    with op.batch_alter_table('grants', schema=None) as batch_op:
        batch_op.drop_column('product')

    with op.batch_alter_table('proxy_clients', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_proxy_clients_host_id'))

    op.drop_table('proxy_clients')
    op.drop_table('mtg_hosts')
