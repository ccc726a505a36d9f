"""Audit logs: what happened to a parent's shared data, and to each connector instance."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.models import AuditEvent
from gateway.models import ConnectorInstance
from gateway.models import InstanceEvent


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


def record_instance(
    session: Session,
    instance: ConnectorInstance,
    kind: str,
    *,
    now: dt.datetime,
    actor_id: int | None = None,
    via: str | None = None,
    detail: str | None = None,
) -> InstanceEvent:
    """Add a step to a connector instance's audit log (``via``: how, when no person did it)."""
    event = InstanceEvent(
        instance_id=instance.id, kind=kind, actor_id=actor_id, via=via, detail=detail, at=now
    )
    session.add(event)
    session.flush()
    return event


def instance_log(session: Session, instance: ConnectorInstance) -> list[InstanceEvent]:
    """Return an instance's audit log, newest first."""
    return list(
        session.scalars(
            select(InstanceEvent)
            .where(InstanceEvent.instance_id == instance.id)
            .order_by(InstanceEvent.at.desc(), InstanceEvent.id.desc())
        )
    )
