"""notification claims: a sender claims the rows it is about to send, so another passes them by

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 23:50:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("notifications") as table:
        table.add_column(sa.Column("claimed_by", sa.String(length=32), nullable=True))
        table.add_column(sa.Column("claimed_until", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("notifications") as table:
        table.drop_column("claimed_until")
        table.drop_column("claimed_by")
