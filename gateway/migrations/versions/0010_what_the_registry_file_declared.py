"""what the registry file last declared for each connector instance

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 09:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    # Left empty for the rows there are: the next load applies their whole declaration, as
    # every load did before.
    with op.batch_alter_table("connector_instances", schema=None) as batch_op:
        batch_op.add_column(sa.Column("declared", sa.JSON(), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("connector_instances", schema=None) as batch_op:
        batch_op.drop_column("declared")
