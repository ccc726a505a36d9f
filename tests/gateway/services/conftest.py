"""Fixtures of the service tests: an engine and a session on the migrated test database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session


@pytest.fixture
def engine(clean_database: str) -> Iterator[sa.Engine]:
    """Return an engine on the migrated test database, emptied after the test."""
    engine = sa.create_engine(clean_database)
    yield engine
    engine.dispose()


@pytest.fixture
def session(engine: sa.Engine) -> Iterator[Session]:
    """Return a session on the test database."""
    with Session(engine) as session:
        yield session
