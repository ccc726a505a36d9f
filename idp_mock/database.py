"""Open the mock's own database and hand each request one session."""

from __future__ import annotations

import typing as t

import sqlalchemy as sa
from flask import Flask
from flask import current_app
from flask import g
from sqlalchemy.orm import Session
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import StaticPool

from idp_mock import account_models  # noqa: F401  (registers its tables on Base)
from idp_mock.models import Base

EXTENSION = "idp_mock.db"


def create_engine(url: str) -> sa.Engine:
    """Create the engine; in-memory SQLite gets one shared connection for all threads."""
    if url in ("sqlite://", "sqlite:///:memory:"):
        return sa.create_engine(
            url, connect_args={"check_same_thread": False}, poolclass=StaticPool
        )
    return sa.create_engine(url)


def init_db(app: Flask, url: str) -> sessionmaker[Session]:
    """Create the schema, register the session factory and its per-request teardown."""
    engine = create_engine(url)
    # A throwaway development stand-in: no migrations, the schema is created at start.
    Base.metadata.create_all(engine)
    factory = sessionmaker(engine, expire_on_commit=False)
    app.extensions[EXTENSION] = factory
    app.teardown_appcontext(_close_session)
    return factory


def db() -> Session:
    """Return the session of the current request, opening it on first use."""
    if "idp_db" not in g:
        factory: sessionmaker[Session] = current_app.extensions[EXTENSION]
        g.idp_db = factory()
    return t.cast(Session, g.idp_db)


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("idp_db", None)
    if session is not None:
        session.close()
