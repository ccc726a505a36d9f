"""Signed-in browser sessions, kept server-side so they can be ended from anywhere."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey
from sqlalchemy import LargeBinary
from sqlalchemy import String
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from gateway.models.base import Base
from gateway.models.base import utcnow
from gateway.models.user import User


class UserSession(Base):
    """One sign-in of one person in one browser.

    The cookie carries only ``id`` (and the CSRF token); everything else a session needs
    lives here. Ending the row ends the session on every gateway instance (sign out
    everywhere, the provider's back-channel logout, timeouts).
    """

    __tablename__ = "user_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    provider_sid: Mapped[str | None] = mapped_column(String(255), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[dt.datetime | None]
    ended_reason: Mapped[str | None] = mapped_column(String(32))
    # The provider's refresh token, sealed by the vault; lets the person re-read their level.
    provider_refresh_token: Mapped[bytes | None] = mapped_column(LargeBinary)
    # The provider's ID token, sealed by the vault, kept for the logout's id_token_hint; it
    # names the person, so it never goes into the (signed, readable) cookie.
    id_token: Mapped[bytes | None] = mapped_column(LargeBinary)
    # The consent text version this session has seen accepted, so it is checked once.
    consent_version: Mapped[str | None] = mapped_column(String(32))

    # Loaded with the session row: every signed-in request needs both.
    user: Mapped[User] = relationship(lazy="joined")

    def __repr__(self) -> str:
        """Name the row without its secret id."""
        return f"<UserSession of user {self.user_id}>"
