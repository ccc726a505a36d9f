"""Gateway fixtures: an app over the in-memory fake connector, and a signed-in parent."""

from __future__ import annotations

import datetime as dt
import html
import re
import typing as t
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from gateway.extensions import db
from gateway.models import ConnectorInstance
from gateway.models import OutboxMessage
from gateway.models import RoleKind
from gateway.models import User
from gateway.runtime import services
from gateway.services import outbox
from gateway.services import roles
from gateway.services import sessions
from gateway.services import users
from tests.gateway.fakes import FakeBrowserConnector
from tests.gateway.fakes import FakeConnector
from tests.gateway.fakes import FakeOperatorConnector
from tests.gateway.fakes import FakeSchool


@pytest.fixture
def school() -> Iterator[FakeSchool]:
    """Give each test a fresh pretend school."""
    FakeConnector.school = FakeSchool()
    yield FakeConnector.school


FAKE_CLASSES = {
    "fake": FakeConnector,
    "fake_oauth": FakeBrowserConnector,
    "fake_operator": FakeOperatorConnector,
}
FAKE_INSTANCES = (
    ("test-fake", "99", "Тестовая область", "fake"),
    ("test-oauth", "98", "Партнёрская область", "fake_oauth"),
)


def build_fake_app(
    make_app: t.Callable[..., Flask],
    instances: t.Sequence[tuple[str, str, str, str]] = FAKE_INSTANCES,
    **overrides: t.Any,
) -> Flask:
    """Build a gateway app over the fake connectors with these (key, region code, region
    name, connector) instances."""
    app = make_app(CONNECTOR_CLASSES=FAKE_CLASSES, WTF_CSRF_ENABLED=False, **overrides)
    with app.app_context():
        for key, code, region, connector in instances:
            db.session.add(
                ConnectorInstance(
                    key=key,
                    region_code=code,
                    region_name=region,
                    connector=connector,
                    base_url="http://fake.invalid",
                    settings={},
                    approved_at=dt.datetime.now(dt.UTC),  # already offered to parents
                )
            )
        db.session.commit()
    return app


@pytest.fixture
def fake_app(make_app: t.Callable[..., Flask], school: FakeSchool) -> Flask:
    """Return a gateway app that knows only the fake connectors, one instance of each."""
    return build_fake_app(make_app)


def make_parent(
    app: Flask,
    subject: str = "parent-1",
    name: str = "Иванова Мария",
    *,
    phone: str | None = None,
    email: str | None = None,
) -> int:
    """Create a standard-level person who has already accepted the consent; return their id."""
    return make_person(app, subject, name, phone=phone, email=email)


@pytest.fixture
def parent_id(fake_app: Flask) -> int:
    """Return the id of a consenting parent."""
    return make_parent(fake_app)


def signed_in(app: Flask, user_id: int, *, now: dt.datetime | None = None) -> FlaskClient:
    """Return a test client with a live server-side session for this person, begun ``now``
    (the wall clock's, unless a test pins the gateway's)."""
    client = app.test_client()
    with app.app_context():
        user = db.session.get(User, user_id)
        began = now or dt.datetime.now(dt.UTC)
        record = sessions.start(db.session, user, provider_sid=None, now=began)
        db.session.commit()
        record_id = record.id
    with client.session_transaction() as state:
        state["sid"] = record_id  # all a signed-in cookie carries
    return client


def approval_form(admin: FlaskClient, key: str) -> dict[str, str]:
    """Open the approvals page and return what its button for ``key`` would post."""
    page = admin.get("/operator/approvals").text
    form = re.search(rf'action="/operator/instances/{key}/approve">(.*?)</form>', page, re.S)
    assert form is not None, f"no approval button for {key}"
    fields = {}
    for tag in re.findall(r"<input [^>]*>", form[1]):
        name, value = re.search(r'name="([^"]*)"', tag), re.search(r'value="([^"]*)"', tag)
        if name is not None:
            fields[name[1]] = html.unescape(value[1]) if value is not None else ""
    return fields


@pytest.fixture
def parent(fake_app: Flask, parent_id: int) -> FlaskClient:
    """Return a test client signed in as the parent."""
    return signed_in(fake_app, parent_id)


def make_person(
    app: Flask,
    subject: str,
    name: str,
    *,
    birthdate: str | None = None,
    level: str = "standard",
    phone: str | None = None,
    email: str | None = None,
) -> int:
    """Create a consenting person with a verified birth date and level; return their id."""
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
                "birthdate": birthdate,
                "phone_number": phone,
                "email": email,
                "account_level": level,
            },
        )
        users.record_consent(
            db.session, user, app.config["CONSENT_VERSION"], now=user.last_login_at
        )
        db.session.commit()
        return user.id


def make_operator(app: Flask, region_code: str, subject: str = "operator-63") -> int:
    """Create a person and make them the operator of a region; return their id."""
    user_id = make_person(app, subject, "Орлова Мария Андреевна", birthdate="1979-05-05")
    with app.app_context():
        roles.grant(
            db.session,
            subject,
            RoleKind.OPERATOR,
            region_code=region_code,
            now=dt.datetime.now(dt.UTC),
        )
        db.session.commit()
    return user_id


@pytest.fixture
def operator_app(make_app: t.Callable[..., Flask], school: FakeSchool) -> Flask:
    """Return an app with a Samara instance whose fake system issues logins (region 63),
    and the plain fake instance of region 99."""
    return build_fake_app(
        make_app,
        instances=(
            ("samara-fake", "63", "Самарская область", "fake_operator"),
            ("test-fake", "99", "Тестовая область", "fake"),
        ),
    )


def invitation_token_sent() -> str:
    """Deliver the newest invitation SMS (in an app context) and return its link's token."""
    message = db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.channel == "sms")
        .order_by(OutboxMessage.id.desc())
        .limit(1)
    ).one()
    sent = outbox.deliver(db.session, message, vault=services().vault, now=dt.datetime.now(dt.UTC))
    db.session.commit()
    return re.search(r"/trusted/accept/([\w-]+)", sent.text)[1]  # type: ignore[index]
