"""support desk: tickets, their messages with delivery results, quick replies, the group's current id

Revision ID: 0007_support_desk
Revises: 0006_owner_settings
Create Date: 2026-12-07 06:34:53
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import shop.models

revision: str = '0007_support_desk'
down_revision: str | None = '0006_owner_settings'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('support_chats',
    sa.Column('configured_id', sa.BigInteger(), nullable=False),
    sa.Column('chat_id', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('configured_id', name=op.f('pk_support_chats'))
    )
    op.create_table('support_quick_replies',
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_by', sa.BigInteger(), nullable=False),
    sa.Column('created_at', shop.models.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_support_quick_replies'))
    )
    op.create_table('support_tickets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.Enum('open', 'closed', name='ticket_status', native_enum=False, length=16), nullable=False),
    sa.Column('chat_id', sa.BigInteger(), nullable=True),
    sa.Column('thread_id', sa.BigInteger(), nullable=True),
    sa.Column('topic_claimed_at', shop.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('opened_at', shop.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', shop.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('waiting_since', shop.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_support_tickets_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_support_tickets')),
    sa.UniqueConstraint('user_id', name=op.f('uq_support_tickets_user_id'))
    )
    with op.batch_alter_table('support_tickets', schema=None) as batch_op:
        batch_op.create_index('ix_support_tickets_chat_id_thread_id', ['chat_id', 'thread_id'], unique=False)

    op.create_table('support_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('direction', sa.Enum('in', 'out', name='message_direction', native_enum=False, length=16), nullable=False),
    sa.Column('source_chat_id', sa.BigInteger(), nullable=False),
    sa.Column('source_message_id', sa.BigInteger(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('author_id', sa.BigInteger(), nullable=True),
    sa.Column('status', sa.Enum('pending', 'delivered', 'blocked', 'failed', name='support_delivery', native_enum=False, length=16), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('copy_message_id', sa.BigInteger(), nullable=True),
    sa.Column('created_at', shop.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('delivered_at', shop.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['ticket_id'], ['support_tickets.id'], name=op.f('fk_support_messages_ticket_id_support_tickets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_support_messages')),
    sa.UniqueConstraint('source_chat_id', 'source_message_id', name=op.f('uq_support_messages_source_chat_id_source_message_id'))
    )
    with op.batch_alter_table('support_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_support_messages_ticket_id'), ['ticket_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('support_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_support_messages_ticket_id'))

    op.drop_table('support_messages')
    with op.batch_alter_table('support_tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_support_tickets_chat_id_thread_id')

    op.drop_table('support_tickets')
    op.drop_table('support_quick_replies')
    op.drop_table('support_chats')
