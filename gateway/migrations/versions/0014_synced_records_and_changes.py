"""the background sync's store of records, one row each, and the changes between syncs

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 16:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "synced_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("link_id", sa.Integer(), nullable=False),
        sa.Column("section", sa.String(length=32), nullable=False),
        sa.Column("record_key", sa.String(length=255), nullable=False),
        sa.Column("day", sa.Date(), nullable=True),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["link_id"], ["child_links.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("link_id", "section", "record_key"),
    )
    op.create_index(
        "ix_synced_records_link_section_day", "synced_records", ["link_id", "section", "day"]
    )
    op.create_table(
        "record_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("link_id", sa.Integer(), nullable=False),
        sa.Column("section", sa.String(length=32), nullable=False),
        sa.Column("record_key", sa.String(length=255), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "ADDED", "MODIFIED", "REMOVED", name="changekind", native_enum=False, length=16
            ),
            nullable=False,
        ),
        sa.Column("day", sa.Date(), nullable=True),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["link_id"], ["child_links.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("link_id", "section", "record_key", "revision"),
    )
    op.create_index("ix_record_changes_link_seen", "record_changes", ["link_id", "seen_at"])
    op.create_index(
        "ix_record_changes_link_section_day", "record_changes", ["link_id", "section", "day"]
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_record_changes_link_section_day", table_name="record_changes")
    op.drop_index("ix_record_changes_link_seen", table_name="record_changes")
    op.drop_table("record_changes")
    op.drop_index("ix_synced_records_link_section_day", table_name="synced_records")
    op.drop_table("synced_records")
