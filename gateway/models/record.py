"""The background sync's store: one row per record a backend returned, and its changes."""

from __future__ import annotations

import datetime as dt
import enum
import typing as t

from sqlalchemy import JSON
from sqlalchemy import Enum
from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import String
from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from gateway.models.base import Base


class ChangeKind(enum.StrEnum):
    """What happened to a record between two syncs."""

    ADDED = "added"
    MODIFIED = "modified"
    REMOVED = "removed"


class SyncedRecord(Base):
    """One record of a linked child's section as the last sync found it.

    ``record_key`` names the record across syncs (see ``gateway.services.records``);
    ``revision`` counts its states, so each state can be left only once (see
    :class:`RecordChange`).
    """

    __tablename__ = "synced_records"
    __table_args__ = (UniqueConstraint("link_id", "section", "record_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("child_links.id", ondelete="CASCADE"))
    section: Mapped[str] = mapped_column(String(32))
    record_key: Mapped[str] = mapped_column(String(255))
    # The record's own date, where it has one: a fetch of a window answers for these days.
    day: Mapped[dt.date | None]
    # sha256 of the canonical JSON of ``payload`` (a lesson's without its id): equal
    # content, equal hash. See gateway.services.records.
    content_hash: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, t.Any]] = mapped_column(JSON)
    revision: Mapped[int]
    first_seen_at: Mapped[dt.datetime]
    changed_at: Mapped[dt.datetime]


class RecordChange(Base):
    """A record that appeared, changed or disappeared, with its content before and after.

    ``revision`` is the record's revision this change led to (a removal leads to one past
    the last stored). Unique per record, it makes one transition impossible to record
    twice: two workers applying the same fetch both start from the same revision, and
    only one of them can write its successor.
    """

    __tablename__ = "record_changes"
    __table_args__ = (UniqueConstraint("link_id", "section", "record_key", "revision"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("child_links.id", ondelete="CASCADE"))
    section: Mapped[str] = mapped_column(String(32))
    record_key: Mapped[str] = mapped_column(String(255))
    revision: Mapped[int]
    kind: Mapped[ChangeKind] = mapped_column(
        Enum(ChangeKind, native_enum=False, length=16, validate_strings=True)
    )
    # The record's date after the change (before it, for a removal).
    day: Mapped[dt.date | None]
    before: Mapped[dict[str, t.Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, t.Any] | None] = mapped_column(JSON)
    seen_at: Mapped[dt.datetime]


# A child's changes, newest first; and a section's changes by day, for the timetable.
Index("ix_record_changes_link_seen", RecordChange.link_id, RecordChange.seen_at)
Index(
    "ix_record_changes_link_section_day",
    RecordChange.link_id,
    RecordChange.section,
    RecordChange.day,
)
# The records a fetch of a window answers for.
Index(
    "ix_synced_records_link_section_day",
    SyncedRecord.link_id,
    SyncedRecord.section,
    SyncedRecord.day,
)
