"""Server-side sign-in sessions: start, check with idle and absolute timeouts, end."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from sqlalchemy import CursorResult
from sqlalchemy import delete
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import Session

from gateway.models import User
from gateway.models import UserSession

# Touch last_seen_at at most this often, so a busy page does not write on every request.
TOUCH_EVERY = dt.timedelta(seconds=60)


@dataclass(frozen=True, slots=True)
class Timeouts:
    """How long a session may sit idle, and how long it may live at all."""

    idle: dt.timedelta
    absolute: dt.timedelta


def _aware(moment: dt.datetime) -> dt.datetime:
    # SQLite hands back naive datetimes even for timezone-aware columns.
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def start(
    session: Session, user: User, *, provider_sid: str | None, now: dt.datetime
) -> UserSession:
    """Open a new session for a person who just signed in."""
    record = UserSession(
        id=secrets.token_urlsafe(32),
        user_id=user.id,
        provider_sid=provider_sid,
        created_at=now,
        last_seen_at=now,
    )
    session.add(record)
    session.flush()
    return record


def current(
    session: Session, session_id: str, *, now: dt.datetime, timeouts: Timeouts
) -> UserSession | None:
    """Return the live session with this id, ending it first if it timed out."""
    record = session.get(UserSession, session_id)
    if record is None or record.ended_at is not None:
        return None
    if now - _aware(record.last_seen_at) > timeouts.idle:
        end(session, record, reason="idle", now=now)
        return None
    if now - _aware(record.created_at) > timeouts.absolute:
        end(session, record, reason="expired", now=now)
        return None
    if now - _aware(record.last_seen_at) > TOUCH_EVERY:
        record.last_seen_at = now  # the caller commits when the session is dirty
    return record


def end(session: Session, record: UserSession, *, reason: str, now: dt.datetime) -> None:
    """End one session (the caller commits)."""
    record.ended_at = now
    record.ended_reason = reason


def end_all(session: Session, user_id: int, *, reason: str, now: dt.datetime) -> int:
    """End every live session of a person; return how many were live."""
    result = session.execute(
        update(UserSession)
        .where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
        .values(ended_at=now, ended_reason=reason)
    )
    assert isinstance(result, CursorResult)  # an UPDATE answers with its row count
    return int(result.rowcount or 0)


def end_for_provider(
    session: Session,
    *,
    issuer: str,
    subject: str | None,
    provider_sid: str | None,
    now: dt.datetime,
) -> int:
    """End the sessions a provider's logout names by subject and/or its session id."""
    query = (
        select(UserSession.id)
        .join(User)
        .where(User.issuer == issuer, UserSession.ended_at.is_(None))
    )
    if subject is not None:
        query = query.where(User.subject == subject)
    if provider_sid is not None:
        query = query.where(UserSession.provider_sid == provider_sid)
    ids = list(session.scalars(query))
    if ids:
        session.execute(
            update(UserSession)
            .where(UserSession.id.in_(ids))
            .values(ended_at=now, ended_reason="provider_logout")
        )
    return len(ids)


def sweep(session: Session, *, now: dt.datetime, timeouts: Timeouts, keep: dt.timedelta) -> int:
    """End the sessions that timed out unseen, delete those ended ``keep`` ago; return deleted.

    A session is checked when its cookie comes back; one whose browser never returns would
    otherwise stay live in the table, its sealed tokens with it.
    """
    session.execute(
        update(UserSession)
        .where(UserSession.ended_at.is_(None), UserSession.last_seen_at < now - timeouts.idle)
        .values(ended_at=now, ended_reason="idle")
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(UserSession)
        .where(UserSession.ended_at.is_(None), UserSession.created_at < now - timeouts.absolute)
        .values(ended_at=now, ended_reason="expired")
        .execution_options(synchronize_session=False)
    )
    deleted = session.execute(
        delete(UserSession)
        .where(UserSession.ended_at < now - keep)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(deleted, "rowcount", 0) or 0)
