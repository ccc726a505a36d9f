"""Fixtures for idp_mock: an app on in-memory SQLite, its test client, a signed-in client."""

from __future__ import annotations

import typing as t

import pytest
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
