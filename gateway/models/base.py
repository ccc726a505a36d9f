"""The declarative base and column conventions shared by every model."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.orm import registry

# Explicit constraint names keep Alembic migrations identical on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Base class of every gateway model."""

    registry = registry(
        metadata=MetaData(naming_convention=NAMING),
        type_annotation_map={dt.datetime: DateTime(timezone=True)},
    )


def utcnow() -> dt.datetime:
    """Return the current time in UTC, timezone-aware."""
    return dt.datetime.now(dt.UTC)
