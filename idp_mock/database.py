"""Open the mock's own database and hand each request one session."""

from __future__ import annotations

import contextlib
import os
import typing as t
from pathlib import Path

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
    engine = sa.create_engine(url)
    sa.event.listen(engine, "do_connect", _private_sqlite_file)
    return engine


def _private_sqlite_file(dialect: t.Any, record: t.Any, cargs: list[t.Any], cparams: t.Any) -> None:
    """Create the SQLite file 0600 (its journals follow): it holds people's passwords."""
    if dialect.name == "sqlite" and cargs and not cparams.get("uri"):
        path = Path(cargs[0])
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


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
