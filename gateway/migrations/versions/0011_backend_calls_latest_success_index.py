"""an index to find each connector instance's latest successful call

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 09:00:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("backend_calls", schema=None) as batch_op:
        batch_op.create_index(
            "ix_backend_calls_instance_success", ["instance_id", "ok", "at"], unique=False
        )


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("backend_calls", schema=None) as batch_op:
        batch_op.drop_index("ix_backend_calls_instance_success")
