"""partial index of users no reminder may reach

Revision ID: 0002_expiry
Revises: 0001
Create Date: 2026-11-22 04:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_expiry"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNREACHABLE = sa.text("banned OR bot_blocked_at IS NOT NULL")


def upgrade() -> None:
    op.create_index(
        "ix_users_unreachable", "users", ["id"], postgresql_where=UNREACHABLE, sqlite_where=UNREACHABLE
    )


def downgrade() -> None:
    op.drop_index("ix_users_unreachable", table_name="users")
