"""Schema migrations: the gateway's tables come only from Alembic revisions."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import typing as t
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import Engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(database_url: str) -> Config:
    """Build an Alembic config for the gateway's migrations and this database."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Migrate the database to ``revision``."""
    command.upgrade(alembic_config(database_url), revision)


@event.listens_for(Engine, "connect")
def _enforce_sqlite_foreign_keys(connection: t.Any, record: t.Any) -> None:
    """Make SQLite honour ON DELETE CASCADE, as PostgreSQL always does.

    Web workers and background workers share the file: in WAL mode readers never wait for
    the one writer, and a writer waits its turn for up to 30 s instead of failing at once.
    """
    if isinstance(connection, sqlite3.Connection):
        cursor = connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()


def create_private(path: Path) -> None:
    """Create an empty file only its owner may read, in a folder only its owner may enter.

    Nothing happens to a file or folder that already exists.
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    # An existing database keeps the mode its administrator gave it.
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


@event.listens_for(Engine, "do_connect")
def _private_sqlite_file(dialect: t.Any, record: t.Any, cargs: list[t.Any], cparams: t.Any) -> None:
    """Create a SQLite database file 0600 before SQLite would create it world-readable.

    SQLite gives its -journal and -wal files the mode of the database file, so they follow.
    """
    if dialect.name != "sqlite" or not cargs or cparams.get("uri"):
        return
    name = str(cargs[0])
    if name and name != ":memory:":
        create_private(Path(name))
