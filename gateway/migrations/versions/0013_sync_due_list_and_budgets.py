"""the background sync's due list, and each backend's requests-per-minute budget

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 15:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "sync_due",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("link_id", sa.Integer(), nullable=False),
        sa.Column("section", sa.String(length=32), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column(
            "queue",
            sa.Enum(
                "INTERACTIVE",
                "SCHEDULED",
                "BACKFILL",
                name="queue",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("leased_by", sa.String(length=64), nullable=True),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("baseline_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("backfilled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["link_id"], ["child_links.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("link_id", "section"),
    )
    op.create_index("ix_sync_due_due", "sync_due", ["due_at", "priority"])
    with op.batch_alter_table("connector_instances", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("requests_per_minute", sa.Integer(), nullable=False, server_default="600")
        )


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("connector_instances", schema=None) as batch_op:
        batch_op.drop_column("requests_per_minute")
    op.drop_index("ix_sync_due_due", table_name="sync_due")
    op.drop_table("sync_due")
