"""Fixtures shared by every test package: a migrated database and the gateway app."""

from __future__ import annotations

import os
import typing as t
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet
from flask import Flask
from flask.testing import FlaskClient

from gateway import create_app
from gateway.database import upgrade
from gateway.models import Base
from gateway.services.checkpoints import new_key as new_log_key

# Read before the autouse fixture below hides it: CI's second pass runs everything on Redis.
REDIS_URL = os.environ.get("REDIS_URL")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Return a migrated database: PostgreSQL when DATABASE_URL says so, else SQLite."""
    url = os.environ.get("DATABASE_URL")
    if not url:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'gateway.sqlite3'}"
    upgrade(url)
    return url


@pytest.fixture
def clean_database(database_url: str) -> Iterator[str]:
    """Empty every gateway table after the test, so each test starts from nothing."""
    yield database_url
    engine = sa.create_engine(database_url)
    with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())
    engine.dispose()


@pytest.fixture
def vault_key() -> str:
    """Return a fresh Fernet key for the gateway's vault."""
    return Fernet.generate_key().decode()


@pytest.fixture
def make_app(clean_database: str, vault_key: str, tmp_path: Path) -> t.Callable[..., Flask]:
    """Build gateway apps on the test database; keyword arguments override settings."""

    def build(**overrides: t.Any) -> Flask:
        config: dict[str, t.Any] = {
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": clean_database,
            "SECRET_KEY": "test-secret",
            "VAULT_KEYS": [vault_key],
            "LOG_KEYS": [new_log_key()],
            "PUBLIC_URL": "http://localhost",
            "REDIS_URL": REDIS_URL,
            # The background jobs' broker: Redis on CI's second pass, else a file of the test's.
            "BROKER_URL": REDIS_URL or f"sqla+sqlite:///{tmp_path / 'broker.sqlite3'}",
            # Each test's own backend budgets: a pause or an open circuit ends with the test.
            "BUDGET_FILE": str(tmp_path / "budget.sqlite3"),
            "BUDGET_PREFIX": f"test-budget:{uuid.uuid4().hex}:",
            # The suite signs in hundreds of times a minute from one address; the limits
            # themselves are proven in tests/gateway/test_rate_limits.py.
            "RATELIMIT_ENABLED": False,
        }
        config.update(overrides)
        return create_app(config)

    return build


@pytest.fixture
def app(make_app: t.Callable[..., Flask]) -> Flask:
    """Return a gateway app with default test settings."""
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """Return a test client of the default app."""
    return app.test_client()


@pytest.fixture(autouse=True)
def _no_gateway_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the developer's GATEWAY_* and REDIS_URL variables out of every test."""
    for variable in list(os.environ):
        if variable.startswith("GATEWAY_") or variable == "REDIS_URL":
            monkeypatch.delenv(variable)


pytest_plugins = [
    "tests.support.stack",
    "tests.support.tsa",
    "tests.support.smtp",
    "tests.support.push",
    "tests.support.bot",
]
