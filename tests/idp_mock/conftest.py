"""Fixtures for idp_mock: an app on in-memory SQLite, its test client, a signed-in client."""

from __future__ import annotations

import os
import secrets
import typing as t
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from idp_mock import create_app
from tests.idp_mock.helpers import ISSUER
from tests.idp_mock.helpers import sign_in


@pytest.fixture
def make_idp() -> t.Callable[..., Flask]:
    """Build idp_mock apps on a private in-memory database; keywords override settings."""

    def build(**overrides: t.Any) -> Flask:
        config: dict[str, t.Any] = {
            "TESTING": True,
            "IDP_ISSUER": ISSUER,
            "IDP_DATABASE_URL": "sqlite://",
            "SECRET_KEY": "idp-test-secret",
            # Off unless a test is about CSRF; test_login.py proves it is on by default.
            "WTF_CSRF_ENABLED": False,
        }
        config.update(overrides)
        return create_app(config)

    return build


@pytest.fixture
def idp_database_url(tmp_path: Path) -> Iterator[str]:
    """Return a database of the provider's own: PostgreSQL when DATABASE_URL says so, else SQLite.

    On PostgreSQL the provider gets a fresh schema, dropped afterwards, so its tables never
    meet the gateway's or another test's.
    """
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgresql"):
        yield f"sqlite:///{tmp_path / 'idp.sqlite3'}"
        return
    schema = "idp_" + secrets.token_hex(6)
    admin = sa.create_engine(url)
    with admin.begin() as connection:
        connection.execute(sa.text(f"CREATE SCHEMA {schema}"))
    try:
        private = sa.make_url(url).update_query_dict({"options": f"-csearch_path={schema}"})
        yield private.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.execute(sa.text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture
def idp_app(make_idp: t.Callable[..., Flask]) -> Flask:
    """Return an idp_mock app with the demo people and the demo client."""
    return make_idp()


@pytest.fixture
def idp(idp_app: Flask) -> FlaskClient:
    """Return a browser-like test client of the provider."""
    return idp_app.test_client()


@pytest.fixture
def irina(idp: FlaskClient) -> FlaskClient:
    """Return a test client signed in as Ирина Смирнова (confirmed account)."""
    sign_in(idp, "+79000000001", "parent-demo-1")
    return idp
