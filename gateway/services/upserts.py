"""Race-safe writes: ``INSERT ... ON CONFLICT`` in the dialect of the session's database.

A read-then-insert ("get or create") loses to a second request that inserts between the
read and the write, and the loser answers 500 on the unique constraint. An upsert lets the
database decide, atomically, on SQLite and on PostgreSQL alike, so there is nothing to retry.
"""

from __future__ import annotations

import typing as t

from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

Insert = postgresql.Insert | sqlite.Insert


class UnsupportedDatabase(RuntimeError):
    """The gateway runs on SQLite or PostgreSQL only."""


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
