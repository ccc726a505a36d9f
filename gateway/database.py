"""Schema migrations: the gateway's tables come only from Alembic revisions."""

from __future__ import annotations

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
    """Make SQLite honour ON DELETE CASCADE, as PostgreSQL always does."""
    if isinstance(connection, sqlite3.Connection):
        cursor = connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()
