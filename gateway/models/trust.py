"""Delegated access: a parent lets a trusted person see some sections of some children."""

from __future__ import annotations

import datetime as dt
import typing as t

from sqlalchemy import JSON
from sqlalchemy import ForeignKey
from sqlalchemy import LargeBinary
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from gateway.models.base import Base
from gateway.models.base import utcnow
from gateway.models.child import ChildLink
from gateway.models.user import User


class Grant(Base):
    """An invitation to a trusted person and, once accepted, their access.

    Its state is derived from the timestamps (see ``services.trust.status_of``): pending
    until accepted, declined or expired; then accepted until ``active_from``; active
    until revoked or past ``ends_on``.
    """

    __tablename__ = "grants"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    invitee_name: Mapped[str] = mapped_column(String(255))
    invitee_phone: Mapped[str | None] = mapped_column(String(32))
    invitee_email: Mapped[str | None] = mapped_column(String(255))
    # SHA-256 of the single-use invitation token; None once used.
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    invitation_expires_at: Mapped[dt.datetime]
    grantee_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    accepted_at: Mapped[dt.datetime | None]
    active_from: Mapped[dt.datetime | None]
    ends_on: Mapped[dt.date | None]
    declined_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]
    last_refusal: Mapped[str | None] = mapped_column(Text)

    owner: Mapped[User] = relationship(foreign_keys=[owner_id])
    grantee: Mapped[User | None] = relationship(foreign_keys=[grantee_id])
    scopes: Mapped[list[GrantScope]] = relationship(
        back_populates="grant", cascade="all, delete-orphan"
    )

    def __repr__(self) -> str:
        """Name the grant without the invitee's contacts."""
        return f"<Grant {self.id}>"


class GrantScope(Base):
    """One child and the sections of their diary a grant opens."""

    __tablename__ = "grant_scopes"

    id: Mapped[int] = mapped_column(primary_key=True)
    grant_id: Mapped[int] = mapped_column(ForeignKey("grants.id", ondelete="CASCADE"), index=True)
    link_id: Mapped[int] = mapped_column(
        ForeignKey("child_links.id", ondelete="CASCADE"), index=True
    )
    sections: Mapped[list[str]] = mapped_column(JSON)

    grant: Mapped[Grant] = relationship(back_populates="scopes")
    link: Mapped[ChildLink] = relationship()


class AuditEvent(Base):
    """Something that happened to a parent's shared data, for the parent to read."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(32))
    grant_id: Mapped[int | None] = mapped_column(ForeignKey("grants.id", ondelete="SET NULL"))
    link_id: Mapped[int | None] = mapped_column(ForeignKey("child_links.id", ondelete="SET NULL"))
    section: Mapped[str | None] = mapped_column(String(32))
    detail: Mapped[str | None] = mapped_column(Text)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)

    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])
    link: Mapped[ChildLink | None] = relationship()


class OutboxMessage(Base):
    """An SMS or e-mail the gateway sends (a worker delivers them; dev shows them)."""

    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(8))
    recipient: Mapped[str] = mapped_column(String(255))
    subject: Mapped[str] = mapped_column(String(255))
    # Secrets (an invitation's link) appear here only as {name}: see ``sealed``.
    body: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, t.Any]] = mapped_column(JSON, default=dict)
    # The secrets, sealed by the vault until delivery, then None: a delivered row is inert.
    sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[dt.datetime | None]

    def __repr__(self) -> str:
        """Name the message without its recipient or text."""
        return f"<OutboxMessage {self.id} {self.channel}>"
