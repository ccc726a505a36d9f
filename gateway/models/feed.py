"""Secret calendar feeds: one per followed child, found by the hash of its token."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey
from sqlalchemy import String
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from gateway.models.base import Base
from gateway.models.base import utcnow
from gateway.models.child import ChildLink


class CalendarFeed(Base):
    """A child's iCalendar subscription; the URL's token is the only credential.

    Only the SHA-256 of the token is kept: a copy of the database cannot be turned back
    into working feed URLs. Unlinking the child deletes the feed with it.
    """

    __tablename__ = "calendar_feeds"

    id: Mapped[int] = mapped_column(primary_key=True)
    link_id: Mapped[int] = mapped_column(
        ForeignKey("child_links.id", ondelete="CASCADE"), unique=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    rotated_at: Mapped[dt.datetime | None]

    link: Mapped[ChildLink] = relationship()

    def __repr__(self) -> str:
        """Name the feed by its child link; never the token hash."""
        return f"<CalendarFeed {self.id} link={self.link_id}>"
