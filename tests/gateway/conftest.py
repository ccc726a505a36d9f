"""Gateway fixtures: an app over the in-memory fake connector, and a signed-in parent."""

from __future__ import annotations

import datetime as dt
import typing as t
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from gateway.extensions import db
from gateway.models import ConnectorInstance
from gateway.models import User
from gateway.services import sessions
from gateway.services import users
from tests.gateway.fakes import FakeBrowserConnector
from tests.gateway.fakes import FakeConnector
from tests.gateway.fakes import FakeSchool


@pytest.fixture
def school() -> Iterator[FakeSchool]:
    """Give each test a fresh pretend school."""
    FakeConnector.school = FakeSchool()
    yield FakeConnector.school


@pytest.fixture
def fake_app(make_app: t.Callable[..., Flask], school: FakeSchool) -> Iterator[Flask]:
    """Return a gateway app that knows only the fake connectors, one instance of each."""
    app = make_app(
        CONNECTOR_CLASSES={"fake": FakeConnector, "fake_oauth": FakeBrowserConnector},
        WTF_CSRF_ENABLED=False,
    )
    with app.app_context():
        db.session.add(
            ConnectorInstance(
                key="test-fake",
                region_code="99",
                region_name="Тестовая область",
                connector="fake",
                base_url="http://fake.invalid",
                settings={},
            )
        )
        db.session.add(
            ConnectorInstance(
                key="test-oauth",
                region_code="98",
                region_name="Партнёрская область",
                connector="fake_oauth",
                base_url="http://fake.invalid",
                settings={},
            )
        )
        db.session.commit()
    yield app


def make_parent(
    app: Flask,
    subject: str = "parent-1",
    name: str = "Иванова Мария",
    *,
    phone: str | None = None,
    email: str | None = None,
) -> int:
    """Create a person who has already accepted the consent; return their id."""
    with app.app_context():
        family, given, *middle = name.split()
        user = users.upsert_from_claims(
            db.session,
            issuer="http://idp.test",
            now=dt.datetime.now(dt.UTC),
            claims={
                "sub": subject,
                "family_name": family,
                "given_name": given,
                "middle_name": " ".join(middle) or None,
                "phone_number": phone,
                "email": email,
                "account_level": "standard",
            },
        )
        users.record_consent(db.session, user, app.config["CONSENT_VERSION"], user.last_login_at)
        db.session.commit()
        return user.id


@pytest.fixture
def parent_id(fake_app: Flask) -> int:
    """Return the id of a consenting parent."""
    return make_parent(fake_app)


def signed_in(app: Flask, user_id: int) -> FlaskClient:
    """Return a test client with a live server-side session for this person."""
    client = app.test_client()
    with app.app_context():
        user = db.session.get(User, user_id)
        record = sessions.start(db.session, user, provider_sid=None, now=dt.datetime.now(dt.UTC))
        db.session.commit()
        record_id = record.id
    with client.session_transaction() as state:
        state["_user_id"] = str(user_id)
        state["_fresh"] = True
        state["sid"] = record_id
    return client


@pytest.fixture
def parent(fake_app: Flask, parent_id: int) -> FlaskClient:
    """Return a test client signed in as the parent."""
    return signed_in(fake_app, parent_id)
