"""The last good copy of each section of a child's diary, per period."""

from __future__ import annotations

import datetime as dt
import typing as t

from sqlalchemy import JSON
from sqlalchemy import ForeignKey
from sqlalchemy import String
from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from gateway.models.base import Base


class SectionSnapshot(Base):
    """What a backend returned for one child, section and period, and when.

    Served as is while fresh, and marked stale (with its time) when the backend fails.
    """

    __tablename__ = "section_snapshots"
    __table_args__ = (UniqueConstraint("link_id", "section", "period_start", "period_end"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    link_id: Mapped[int] = mapped_column(
        ForeignKey("child_links.id", ondelete="CASCADE"), index=True
    )
    section: Mapped[str] = mapped_column(String(32))
    period_start: Mapped[dt.date]
    period_end: Mapped[dt.date]
    # Loaded only when needed: warm pages serve already-decoded records from memory.
    payload: Mapped[list[dict[str, t.Any]]] = mapped_column(JSON, deferred=True)
    fetched_at: Mapped[dt.datetime]
    # When a refresh of this very data last failed; cleared by the next fetch that works.
    failed_at: Mapped[dt.datetime | None]
