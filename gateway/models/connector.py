"""Connector instances that regional operators register, and what happened to each."""

from __future__ import annotations

import datetime as dt
import typing as t

from sqlalchemy import JSON
from sqlalchemy import ForeignKey
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from gateway.models.base import Base
from gateway.models.base import utcnow
from gateway.models.user import User


class ConnectorInstance(Base):
    """One regional backend: region, connector type, base URL and settings.

    Parents are offered it only while ``enabled``. A new or re-pointed instance starts
    disabled and unapproved; it is enabled once a connection test has passed
    (``checked_at``) and an administrator other than the person who made the change has
    approved it (``approved_at``). See ``services.lifecycle``.
    """

    __tablename__ = "connector_instances"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    region_code: Mapped[str] = mapped_column(String(16))
    region_name: Mapped[str] = mapped_column(String(255))
    connector: Mapped[str] = mapped_column(String(64))
    base_url: Mapped[str] = mapped_column(String(512))
    settings: Mapped[dict[str, t.Any]] = mapped_column(JSON, default=dict)
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Moscow")
    concurrency_limit: Mapped[int] = mapped_column(default=8)
    # The system's budget: requests a minute from every gateway process and worker together.
    requests_per_minute: Mapped[int] = mapped_column(default=600)
    enabled: Mapped[bool] = mapped_column(default=True)
    # Who registered or last re-pointed the instance (a user id; None for the registry file).
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    changed_at: Mapped[dt.datetime | None]
    # The last passing connection test of the current base URL.
    checked_at: Mapped[dt.datetime | None]
    # The administrator's approval of the current base URL (a user id; None for the file).
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    approved_at: Mapped[dt.datetime | None]
    # What the registry file declared at its last load (None: never declared there). A load
    # sets only the fields the file changed since; see ``services.instances``.
    declared: Mapped[dict[str, t.Any] | None] = mapped_column(JSON)

    changed_by: Mapped[User | None] = relationship(foreign_keys=[changed_by_id])

    def __repr__(self) -> str:
        """Name the instance; settings may hold partner secrets, so they stay out."""
        return f"<ConnectorInstance {self.key} {self.connector}>"


class InstanceEvent(Base):
    """One step in an instance's life, for its audit log: who did what, and when."""

    __tablename__ = "instance_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(
        ForeignKey("connector_instances.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(32))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # How the step was taken when no signed-in person took it: "cli", the registry file.
    via: Mapped[str | None] = mapped_column(String(255))
    detail: Mapped[str | None] = mapped_column(Text)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)

    actor: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        """Name the event by its instance and kind."""
        return f"<InstanceEvent {self.instance_id} {self.kind}>"
