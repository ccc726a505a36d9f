"""the transparency log: leaves, their openings, subtrees, the head and signed checkpoints

Records stored before the log began are adopted: each gets an ``observed`` leaf, seen when
it was last changed, so that the log holds everything the store shows from the start.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04 18:30:00.000000
"""

from __future__ import annotations

import datetime as dt
import secrets

import sqlalchemy as sa
from alembic import op

from verifier import leaves
from verifier import merkle

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "ledger_subjects",
        sa.Column("link_id", sa.Integer(), nullable=False),
        sa.Column("pseudonym", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["link_id"], ["child_links.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("link_id"),
        sa.UniqueConstraint("pseudonym"),
    )
    op.create_table(
        "ledger_leaves",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=True),
        sa.Column("leaf", sa.Text(), nullable=False),
        sa.Column("leaf_hash", sa.String(length=64), nullable=False),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("seq"),
    )
    op.create_table(
        "ledger_openings",
        sa.Column("leaf_id", sa.Integer(), nullable=False),
        sa.Column("link_id", sa.Integer(), nullable=False),
        sa.Column("section", sa.String(length=32), nullable=False),
        sa.Column("record_key", sa.String(length=255), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=True),
        sa.Column("salt", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["leaf_id"], ["ledger_leaves.id"]),
        sa.ForeignKeyConstraint(["link_id"], ["child_links.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("leaf_id"),
        sa.UniqueConstraint("link_id", "section", "record_key", "revision"),
    )
    op.create_index(
        "ix_ledger_openings_link_section_day", "ledger_openings", ["link_id", "section", "day"]
    )
    op.create_table(
        "ledger_nodes",
        sa.Column("level", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("index", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("level", "index"),
    )
    op.create_table(
        "ledger_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("root", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "ledger_checkpoints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("root", sa.String(length=64), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("timestamp", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_ledger_checkpoints_size", "ledger_checkpoints", ["size"])
    _adopt(op.get_bind())


def _adopt(bind: sa.Connection) -> None:
    """Queue an ``observed`` leaf for every record already stored."""
    meta = sa.MetaData()
    records = sa.Table("synced_records", meta, autoload_with=bind)
    subjects = sa.Table("ledger_subjects", meta, autoload_with=bind)
    leaf_table = sa.Table("ledger_leaves", meta, autoload_with=bind)
    openings = sa.Table("ledger_openings", meta, autoload_with=bind)
    pseudonyms: dict[int, str] = {}
    rows = bind.execute(sa.select(records).order_by(records.c.link_id, records.c.id)).mappings()
    for row in rows.all():
        link_id = row["link_id"]
        if link_id not in pseudonyms:
            pseudonyms[link_id] = secrets.token_hex(16)
            bind.execute(subjects.insert().values(link_id=link_id, pseudonym=pseudonyms[link_id]))
        salt = secrets.token_bytes(16)
        seen = row["changed_at"]
        seen = seen if seen.tzinfo else seen.replace(tzinfo=dt.UTC)
        text = leaves.leaf(
            subject=pseudonyms[link_id],
            section=row["section"],
            record_key=row["record_key"],
            revision=row["revision"],
            kind="observed",
            seen=seen.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            salt=salt,
            payload=row["payload"],
        )
        leaf_id = bind.execute(
            leaf_table.insert()
            .values(leaf=text.decode(), leaf_hash=merkle.leaf_hash(text).hex(), queued_at=seen)
            .returning(leaf_table.c.id)
        ).scalar_one()
        bind.execute(
            openings.insert().values(
                leaf_id=leaf_id,
                link_id=link_id,
                section=row["section"],
                record_key=row["record_key"],
                revision=row["revision"],
                day=row["day"],
                salt=salt.hex(),
            )
        )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_ledger_checkpoints_size", table_name="ledger_checkpoints")
    op.drop_table("ledger_checkpoints")
    op.drop_table("ledger_head")
    op.drop_table("ledger_nodes")
    op.drop_index("ix_ledger_openings_link_section_day", table_name="ledger_openings")
    op.drop_table("ledger_openings")
    op.drop_table("ledger_leaves")
    op.drop_table("ledger_subjects")
