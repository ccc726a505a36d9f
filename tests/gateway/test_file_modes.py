"""Files the gateway creates hold credentials and diaries: readable by the gateway alone."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import sqlalchemy as sa

from gateway import create_app
from gateway import settings


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_fresh_migrate_creates_the_database_and_its_folder_private(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    database = instance / "gateway.sqlite3"
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}",
            "SECRET_KEY": "test-secret",
            "VAULT_KEYS": ["Jt2d0pNW5PIbXzQW0HTmH9v7o6lZ0o0vBZtL3sV9mEw="],
        }
    )
    result = app.test_cli_runner().invoke(args=["migrate"])
    assert result.exit_code == 0, result.output
    assert _mode(database) == 0o600
    assert _mode(instance) == 0o700


def test_the_write_ahead_log_of_a_write_is_private_too(tmp_path: Path) -> None:
    database = tmp_path / "gateway.sqlite3"
    engine = sa.create_engine(f"sqlite:///{database}")
    with engine.begin() as connection:
        connection.execute(sa.text("CREATE TABLE t (x)"))
    with engine.connect() as connection:
        raw = connection.connection.dbapi_connection
        assert isinstance(raw, sqlite3.Connection)
        raw.execute("BEGIN")
        raw.execute("INSERT INTO t VALUES (1)")  # the log exists while this is open
        for log in ("gateway.sqlite3-wal", "gateway.sqlite3-shm"):
            assert (tmp_path / log).exists(), log
            assert _mode(tmp_path / log) == 0o600, log
        raw.execute("ROLLBACK")
    engine.dispose()


def test_development_secrets_and_their_folder_are_private(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    settings.finish({"PRODUCTION": False, "SECRET_KEY": None, "VAULT_KEYS": None}, instance)
    assert _mode(instance) == 0o700
    assert _mode(instance / "secret_key") == 0o600
    assert _mode(instance / "vault_key") == 0o600
