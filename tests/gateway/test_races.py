"""Every "create it unless it exists" write, raced: requests that all arrive at once.

Each racer runs in its own thread, database session and connection, and every racer's
INSERT waits until all of them have reached it, so none can see another's row first: the
read-then-insert window the old code had is always open.
"""

from __future__ import annotations

import datetime as dt
import threading
import typing as t
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event
from sqlalchemy import func
from sqlalchemy import select

from connectors.base import Credentials
from gateway.extensions import db
from gateway.models import CalendarFeed
from gateway.models import ChildLink
from gateway.models import ConnectorInstance
from gateway.models import PersonalDataConsent
from gateway.models import RoleKind
from gateway.models import StaffRole
from gateway.models import User
from gateway.runtime import services
from gateway.services import exports
from gateway.services import roles
from gateway.services import users
from gateway.services.instances import load_registry_file
from gateway.services.linking import Linker
from tests.gateway.conftest import make_parent
from tests.gateway.fakes import FakeConnector

RACERS = 6
NOW = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)


def race(app: Flask, table: str, write: Callable[[], t.Any]) -> list[BaseException]:
    """Run ``write`` in RACERS threads at once, each committing; return what they raised."""
    arrived = threading.Barrier(RACERS)
    errors: list[BaseException] = []

    def hold(conn: t.Any, cursor: t.Any, statement: str, *args: t.Any) -> None:
        if statement.lstrip().upper().startswith(f"INSERT INTO {table.upper()} "):
            arrived.wait(timeout=10)

    def racer() -> None:
        with app.app_context():
            try:
                write()
                db.session.commit()
            except Exception as err:
                errors.append(err)
                db.session.rollback()

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", hold)
    try:
        threads = [threading.Thread(target=racer) for _ in range(RACERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
    finally:
        event.remove(engine, "before_cursor_execute", hold)
    assert not any(thread.is_alive() for thread in threads), "a racer hung"
    return errors


def count(app: Flask, model: t.Any) -> int:
    with app.app_context():
        return int(db.session.scalar(select(func.count()).select_from(model)))


CLAIMS = {"sub": "new-parent", "family_name": "Новикова", "given_name": "Ольга"}


def test_two_tabs_finishing_a_first_sign_in_make_one_person(fake_app: Flask) -> None:
    errors = race(
        fake_app,
        "users",
        lambda: users.upsert_from_claims(
            db.session, issuer="http://idp.test", claims=CLAIMS, now=NOW
        ),
    )
    assert errors == []
    assert count(fake_app, User) == 1
    with fake_app.app_context():
        assert db.session.scalar(select(User.full_name)) == "Новикова Ольга"


def test_accepting_the_consent_in_two_tabs_records_it_once(fake_app: Flask) -> None:
    with fake_app.app_context():
        user_id = users.upsert_from_claims(
            db.session, issuer="http://idp.test", claims=CLAIMS, now=NOW
        ).id
        db.session.commit()

    def accept() -> None:
        users.record_consent(db.session, db.session.get(User, user_id), "2026-11", now=NOW)

    assert race(fake_app, "personal_data_consents", accept) == []
    assert count(fake_app, PersonalDataConsent) == 1


def test_creating_a_calendar_feed_in_two_tabs_makes_one_feed(
    fake_app: Flask, parent: FlaskClient
) -> None:
    reply = parent.post("/children/link/test-fake", data={"login": "parent", "password": "secret"})
    assert reply.status_code == 303
    with fake_app.app_context():
        link_id = db.session.scalar(select(ChildLink.id).where(ChildLink.display_name == "Child1"))
    tokens: list[str] = []

    def issue() -> None:
        tokens.append(exports.issue_feed(db.session, db.session.get(ChildLink, link_id), now=NOW))

    assert race(fake_app, "calendar_feeds", issue) == []
    assert count(fake_app, CalendarFeed) == 1
    with fake_app.app_context():
        working = []
        for token in tokens:
            try:
                working.append(exports.link_for_token(db.session, token).id)
            except exports.FeedNotFound:
                pass
    assert working == [link_id]  # the last writer's token, and only it, opens the feed


@pytest.mark.parametrize(
    ("person", "kind", "region"),
    [
        ("parent-1", RoleKind.ADMIN, None),
        ("parent-1", RoleKind.OPERATOR, "63"),
        ("+7 900 000-00-07", RoleKind.OPERATOR, "63"),
        ("new.operator@example.org", RoleKind.ADMIN, None),
    ],
)
def test_granting_a_role_twice_at_once_grants_it_once(
    fake_app: Flask, person: str, kind: RoleKind, region: str | None
) -> None:
    make_parent(fake_app)
    errors = race(
        fake_app,
        "staff_roles",
        lambda: roles.grant(db.session, person, kind, region_code=region, by="test", now=NOW),
    )
    assert errors == []
    assert count(fake_app, StaffRole) == 1


def test_gateways_loading_the_registry_at_once_register_each_instance_once(
    make_app: Callable[..., Flask], tmp_path: Path
) -> None:
    app = make_app()
    registry = tmp_path / "connectors.toml"
    registry.write_text(
        '[[instance]]\nkey = "samara"\nregion_code = "63"\nregion_name = "Самарская область"\n'
        'connector = "netschool"\nbase_url = "http://127.0.0.1:9103"\n',
        encoding="utf-8",
    )
    errors = race(
        app,
        "connector_instances",
        lambda: load_registry_file(db.session, registry, environ={}, allow_private=True, now=NOW),
    )
    assert errors == []
    assert count(app, ConnectorInstance) == 1


def test_a_double_submitted_link_form_links_each_child_once(fake_app: Flask) -> None:
    parent_id = make_parent(fake_app)
    with fake_app.app_context():
        instance_id = db.session.scalar(
            select(ConnectorInstance.id).where(ConnectorInstance.key == "test-fake")
        )

    def link() -> None:
        instance = db.session.get(ConnectorInstance, instance_id)
        Linker(
            session=db.session,
            user=db.session.get(User, parent_id),
            instance=instance,
            connector=FakeConnector(),
            vault=services().vault,
            now=NOW,
        ).with_password(Credentials(login="parent", password="secret"))

    # Held where both have signed in at the school: SQLite then runs them one after the
    # other, while PostgreSQL lets both look for the links before either has stored one.
    assert race(fake_app, "school_credentials", link) == []
    with fake_app.app_context():
        names = db.session.scalars(select(ChildLink.full_name).order_by(ChildLink.id)).all()
    assert names == ["Иванова Анна", "Иванов Пётр"]
