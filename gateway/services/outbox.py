"""Messages the gateway sends by SMS or e-mail, queued in the database."""

from __future__ import annotations

import datetime as dt
import typing as t

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.models import OutboxMessage


def queue(
    session: Session,
    *,
    channel: str,
    recipient: str,
    subject: str,
    body: str,
    now: dt.datetime,
    payload: dict[str, t.Any] | None = None,
) -> OutboxMessage:
    """Queue one message for delivery."""
    message = OutboxMessage(
        channel=channel,
        recipient=recipient,
        subject=subject,
        body=body,
        payload=payload or {},
        created_at=now,
    )
    session.add(message)
    session.flush()
    return message


def latest(session: Session, *, limit: int = 50) -> list[OutboxMessage]:
    """Return the newest queued messages (the development outbox page)."""
    return list(
        session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit))
    )
