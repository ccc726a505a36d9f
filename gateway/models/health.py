"""Calls the gateway made to regional backends, for the operators' health pages."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import String
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from gateway.models.base import Base
from gateway.models.base import utcnow


class BackendCall(Base):
    """One section fetch from one connector instance: whether it worked, and how long."""

    __tablename__ = "backend_calls"

    id: Mapped[int] = mapped_column(primary_key=True)
    instance_id: Mapped[int] = mapped_column(
        ForeignKey("connector_instances.id", ondelete="CASCADE"), index=True
    )
    section: Mapped[str] = mapped_column(String(32))
    ok: Mapped[bool]
    latency_ms: Mapped[int]
    error: Mapped[str | None] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(default=utcnow, index=True)


# Finds an instance's later successes at once: pruning keeps each instance's latest one.
Index("ix_backend_calls_instance_success", BackendCall.instance_id, BackendCall.ok, BackendCall.at)
