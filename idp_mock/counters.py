"""Change every failure counter in one statement of the database, so parallel requests lose none.

Loading a count, adding one in Python and writing it back lets requests that loaded the same
value write the same result: twenty parallel wrong passwords would count a few and buy an
attacker more tries than the limit. Here the database adds one (``SET n = n + 1 ...
RETURNING n``) and the caller decides from what it returns.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

from idp_mock.account_models import FailureCounter
from idp_mock.models import Person

Insert = postgresql.Insert | sqlite.Insert


class UnsupportedDatabase(RuntimeError):
    """The provider runs on SQLite or PostgreSQL only."""


def insert(session: Session, entity: t.Any) -> Insert:
    """Return an INSERT into ``entity`` that can say what to do on a conflict.

    :raise UnsupportedDatabase: for a database other than SQLite or PostgreSQL.
    """
    name = session.get_bind().dialect.name
    if name == "postgresql":
        return postgresql.insert(entity)
    if name == "sqlite":
        return sqlite.insert(entity)
    raise UnsupportedDatabase(name)


def ensure_counter(session: Session, key: str) -> None:
    """Create the counter under ``key`` at zero unless it exists; safe when requests race."""
    fresh = {"key": key, "failed_logins": 0, "locked_until": 0, "window_start": 0}
    session.execute(insert(session, FailureCounter).values(**fresh).on_conflict_do_nothing())


@dataclass(frozen=True, slots=True)
class Tally:
    """Say what a counter holds after a failure: the count, and until when it is locked."""

    failed: int
    locked_until: int


def count_failure(
    session: Session,
    entity: type[Person] | type[FailureCounter],
    where: sa.ColumnElement[bool],
    *,
    now: int,
    attempts: int,
    seconds: int,
    window: int | None = None,
) -> Tally:
    """Add one failure to the row ``where`` picks; the one that reaches ``attempts`` locks it.

    The lock lasts ``seconds`` and starts the count again. A locked row counts nothing more, so
    requests that raced past the lock are told it is locked. With a ``window`` (the
    FailureCounter table only), failures older than it are forgotten first.
    """
    was_locked = entity.locked_until > now
    failed: sa.ColumnElement[int] = entity.failed_logins + 1
    stale: sa.ColumnElement[bool] = sa.false()
    if window is not None:
        stale = FailureCounter.window_start <= now - window
        failed = sa.case((stale, 1), else_=failed)
    reaches = failed >= attempts
    values: dict[str, t.Any] = {
        "failed_logins": sa.case((was_locked, entity.failed_logins), (reaches, 0), else_=failed),
        "locked_until": sa.case(
            (was_locked, entity.locked_until), (reaches, now + seconds), else_=entity.locked_until
        ),
    }
    if window is not None:
        values["window_start"] = sa.case(
            (was_locked, FailureCounter.window_start),
            (stale | reaches, now),
            else_=FailureCounter.window_start,
        )
    statement = (
        sa.update(entity)
        .where(where)
        .values(values)
        .returning(entity.failed_logins, entity.locked_until)
    )
    failed_now, locked_until = session.execute(statement).one()
    return Tally(failed_now, locked_until)
