"""The background sync's due list: when each linked child's section is next read."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Enum
from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import String
from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from gateway.models.base import Base
from gateway.models.child import ChildLink


class Queue(enum.StrEnum):
    """Where a due row's sync runs; a backfill never waits in front of a parent."""

    INTERACTIVE = "interactive"  # a new link, a parent's «Обновить сейчас»
    SCHEDULED = "scheduled"
    BACKFILL = "backfill"  # the school year so far, once, after linking


class SyncDue(Base):
    """One linked child's section: when it is next due, how urgent, and who holds it.

    A tick claims due rows by setting a lease; a worker that dies leaves the lease to
    run out, and the row is claimed again. ``baseline_at`` is the first full sync after
    linking: what it finds is the starting point, not news.
    """

    __tablename__ = "sync_due"
    __table_args__ = (UniqueConstraint("link_id", "section"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("child_links.id", ondelete="CASCADE"))
    section: Mapped[str] = mapped_column(String(32))
    due_at: Mapped[dt.datetime]
    # Lower runs first among rows due at once: interactive 0, scheduled 10, backfill 20.
    priority: Mapped[int] = mapped_column(default=10)
    queue: Mapped[Queue] = mapped_column(
        Enum(Queue, native_enum=False, length=16, validate_strings=True),
        default=Queue.SCHEDULED,
    )
    lease_until: Mapped[dt.datetime | None]
    leased_by: Mapped[str | None] = mapped_column(String(64))
    synced_at: Mapped[dt.datetime | None]
    baseline_at: Mapped[dt.datetime | None]
    backfilled_at: Mapped[dt.datetime | None]
    # Failures since the last sync that worked: the next try waits longer each time.
    failures: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(String(64))

    link: Mapped[ChildLink] = relationship()


# A tick reads the rows due soonest, most urgent first.
Index("ix_sync_due_due", SyncDue.due_at, SyncDue.priority)
