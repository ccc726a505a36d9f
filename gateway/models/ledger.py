"""The transparency log: an append-only Merkle tree of what the sync observed.

The public part (leaves, interior nodes, signed checkpoints) holds no personal data and is
never deleted. The private part (each leaf's salt and what record it is about) goes with
the child's link: once it is gone, the leaves it opened say nothing of anyone.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger
from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from gateway.models.base import Base


class LedgerSubject(Base):
    """A linked child's pseudonym in the log: random, and known only through the link."""

    __tablename__ = "ledger_subjects"

    link_id: Mapped[int] = mapped_column(
        ForeignKey("child_links.id", ondelete="CASCADE"), primary_key=True
    )
    pseudonym: Mapped[str] = mapped_column(String(32), unique=True)


class LedgerLeaf(Base):
    """One leaf: the canonical JSON of an observed state, and its place in the tree.

    ``seq`` is None until the sequencer gives the leaf its index; a sync only queues.
    """

    __tablename__ = "ledger_leaves"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    leaf: Mapped[str] = mapped_column(Text)
    leaf_hash: Mapped[str] = mapped_column(String(64))
    queued_at: Mapped[dt.datetime]


class LedgerOpening(Base):
    """What a leaf is about, and the salt that opens its commitments (private)."""

    __tablename__ = "ledger_openings"
    __table_args__ = (UniqueConstraint("link_id", "section", "record_key", "revision"),)

    leaf_id: Mapped[int] = mapped_column(ForeignKey("ledger_leaves.id"), primary_key=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("child_links.id", ondelete="CASCADE"))
    section: Mapped[str] = mapped_column(String(32))
    record_key: Mapped[str] = mapped_column(String(255))
    revision: Mapped[int]
    day: Mapped[dt.date | None]
    salt: Mapped[str] = mapped_column(String(32))


class LedgerNode(Base):
    """An interior node of a complete subtree: level ``level``, ``index``-th from the left.

    A complete subtree never changes once its leaves are in, so it is stored once and a
    proof reads O(log n) of them instead of hashing every leaf.
    """

    __tablename__ = "ledger_nodes"

    level: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    index: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[str] = mapped_column(String(64))


class LedgerHead(Base):
    """The tree's size and root now: the row a sequencer locks, so that one appends at once."""

    __tablename__ = "ledger_head"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    size: Mapped[int] = mapped_column(BigInteger)
    root: Mapped[str] = mapped_column(String(64))


class LedgerCheckpoint(Base):
    """A signed checkpoint, as published: the signed note's text."""

    __tablename__ = "ledger_checkpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    root: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text)
    signed_at: Mapped[dt.datetime]
    # A timestamping authority's RFC 3161 answer over the note (DER, base64), when one is
    # configured. Text, not bytes: the binary columns are the vault's sealed secrets.
    timestamp: Mapped[str | None] = mapped_column(Text)


# A child's observations of a section by day, for a bundle of a period.
Index(
    "ix_ledger_openings_link_section_day",
    LedgerOpening.link_id,
    LedgerOpening.section,
    LedgerOpening.day,
)
Index("ix_ledger_checkpoints_size", LedgerCheckpoint.size)
