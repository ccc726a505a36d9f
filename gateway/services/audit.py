"""Record what happened to a parent's shared data, for the parent to read."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.models import AuditEvent


def record(
    session: Session,
    *,
    owner_id: int,
    kind: str,
    now: dt.datetime,
    actor_id: int | None = None,
    grant_id: int | None = None,
    link_id: int | None = None,
    section: str | None = None,
    detail: str | None = None,
) -> AuditEvent:
    """Add an event to the owner's audit log."""
    event = AuditEvent(
        owner_id=owner_id,
        actor_id=actor_id,
        kind=kind,
        grant_id=grant_id,
        link_id=link_id,
        section=section,
        detail=detail,
        at=now,
    )
    session.add(event)
    session.flush()
    return event


def log_of(session: Session, owner_id: int, *, limit: int = 200) -> list[AuditEvent]:
    """Return the owner's latest audit events, newest first."""
    return list(
        session.scalars(
            select(AuditEvent)
            .where(AuditEvent.owner_id == owner_id)
            .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
            .limit(limit)
        )
    )
