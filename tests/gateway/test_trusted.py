"""Trusted persons: invited, accepted only by the named person, scoped, revocable, audited."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from gateway.extensions import db
from gateway.models import AuditEvent
from gateway.models import ChildLink
from gateway.models import Grant
from gateway.models import OutboxMessage
from gateway.services import outbox
from gateway.wiring import services
from tests.gateway.conftest import make_parent
from tests.gateway.conftest import signed_in
from tests.gateway.fakes import FakeSchool
from tests.gateway.fakes import grade

GRANNY = "Смирнова Галина Ивановна"
GRANNY_PHONE = "+79000000003"


@pytest.fixture
def linked(parent: FlaskClient, fake_app: Flask, school: FakeSchool) -> tuple[int, int]:
    """Link the parent's two children; return their ids (Анна, Пётр)."""
    grade(school.grades["s1"], comment="оценка Анны")
    grade(school.grades["s2"], comment="оценка Петра")
    parent.post("/children/link/test-fake", data={"login": "parent", "password": "secret"})
    with fake_app.app_context():
        anna, petr = db.session.scalars(select(ChildLink.id).order_by(ChildLink.position))
    return anna, petr


def _invite(parent: FlaskClient, child: int, *sections: str, **fields: str) -> str:
    data = {"name": GRANNY, "phone": "8 (900) 000-00-03", **fields}
    reply = parent.post("/trusted/invite", data={**data, f"scope-{child}": list(sections)})
    assert reply.status_code == 303, reply.text
    return _token_sent()


def _token_sent() -> str:
    [message] = db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.channel == "sms")
        .order_by(OutboxMessage.id.desc())
    ).all()[:1]
    sent = outbox.deliver(db.session, message, vault=services().vault, now=dt.datetime.now(dt.UTC))
    db.session.commit()
    return re.search(r"/trusted/accept/([\w-]+)", sent.text)[1]  # type: ignore[index]


@pytest.fixture
def granny(fake_app: Flask) -> FlaskClient:
    """The grandmother, signed in with the name and phone of the invitation."""
    return signed_in(fake_app, make_parent(fake_app, "granny", GRANNY, phone=GRANNY_PHONE))


def _kinds(app: Flask) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent.kind).order_by(AuditEvent.id)))


def test_an_accepted_invitation_shows_only_the_granted_child_and_sections(
    parent: FlaskClient, granny: FlaskClient, fake_app: Flask, linked: tuple[int, int]
) -> None:
    anna, petr = linked
    with fake_app.app_context():
        token = _invite(parent, anna, "schedule", "homework")
    page = granny.get(f"/trusted/accept/{token}")
    assert "Иванова Мария открывает вам дневник" in page.text
    assert granny.post(f"/trusted/accept/{token}", data={"decision": "accept"}).status_code == 303
    family = granny.get("/").text
    assert "Доступ от Иванова Мария" in family and "Child1" in family and "Child2" not in family
    assert "оценка Анны" not in family
    assert granny.get(f"/child/{anna}").status_code == 200  # opens on the first granted section
    assert granny.get(f"/child/{anna}?section=homework").status_code == 200
    assert granny.get(f"/child/{anna}?section=grades").status_code == 404
    assert granny.get(f"/child/{petr}").status_code == 404
    assert granny.get(f"/trusted/accept/{token}").status_code == 404  # single use
    assert _kinds(fake_app)[:2] == ["invited", "accepted"] and "viewed" in _kinds(fake_app)
    log = parent.get("/trusted/audit").text
    assert "просмотр" in log and GRANNY in log


def test_someone_else_cannot_accept_and_the_parent_is_told(
    parent: FlaskClient, fake_app: Flask, linked: tuple[int, int]
) -> None:
    anna, _ = linked
    with fake_app.app_context():
        token = _invite(parent, anna, "schedule")
    impostor = signed_in(fake_app, make_parent(fake_app, "x", "Петрова Галина", phone=GRANNY_PHONE))
    refused = impostor.post(
        f"/trusted/accept/{token}", data={"decision": "accept"}, follow_redirects=True
    )
    assert "ФИО в вашей учётной записи не совпадает" in refused.text
    assert impostor.get(f"/child/{anna}").status_code == 404
    assert "refused" in _kinds(fake_app)
    assert "пытались принять с другими данными" in parent.get("/trusted/").text
    wrong_phone = signed_in(fake_app, make_parent(fake_app, "y", GRANNY, phone="+79000000999"))
    again = wrong_phone.post(
        f"/trusted/accept/{token}", data={"decision": "accept"}, follow_redirects=True
    )
    assert "Телефон и почта" in again.text


def test_revoking_closes_access_at_once_and_tells_the_trusted_person(
    parent: FlaskClient, granny: FlaskClient, fake_app: Flask, linked: tuple[int, int]
) -> None:
    anna, _ = linked
    with fake_app.app_context():
        token = _invite(parent, anna, "grades")
    granny.post(f"/trusted/accept/{token}", data={"decision": "accept"})
    assert granny.get(f"/child/{anna}?section=grades").status_code == 200
    with fake_app.app_context():
        grant_id = db.session.scalar(select(Grant.id))
    parent.post(f"/trusted/{grant_id}/revoke")
    assert granny.get(f"/child/{anna}?section=grades").status_code == 404
    assert "Child1" not in granny.get("/").text
    with fake_app.app_context():
        told = db.session.scalars(select(OutboxMessage.subject)).all()
    assert "Доступ закрыт" in told
    assert "отозвано" in parent.get("/trusted/").text


def test_access_opens_after_the_configured_delay_and_both_see_when(
    parent: FlaskClient, granny: FlaskClient, fake_app: Flask, linked: tuple[int, int]
) -> None:
    fake_app.config["TRUST_ACCESS_DELAY_SECONDS"] = 3600
    anna, _ = linked
    with fake_app.app_context():
        token = _invite(parent, anna, "schedule")
    granny.post(f"/trusted/accept/{token}", data={"decision": "accept"})
    assert granny.get(f"/child/{anna}").status_code == 404
    assert "Доступ откроется" in granny.get("/trusted/").text
    assert "Доступ откроется" in parent.get("/trusted/").text
    with fake_app.app_context():
        grant = db.session.scalar(select(Grant))
        grant.active_from = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
        db.session.commit()
    assert granny.get(f"/child/{anna}").status_code == 200


@pytest.mark.parametrize("what", ["invitation", "end_date"])
def test_an_expired_invitation_or_grant_gives_nothing(
    parent: FlaskClient, granny: FlaskClient, fake_app: Flask, linked: tuple[int, int], what: str
) -> None:
    anna, _ = linked
    with fake_app.app_context():
        token = _invite(parent, anna, "schedule")
    if what == "end_date":
        granny.post(f"/trusted/accept/{token}", data={"decision": "accept"})
    with fake_app.app_context():
        grant = db.session.scalar(select(Grant))
        grant.invitation_expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
        grant.ends_on = dt.date.today() - dt.timedelta(days=1) if what == "end_date" else None
        db.session.commit()
    granny.post(f"/trusted/accept/{token}", data={"decision": "accept"})
    assert granny.get(f"/child/{anna}").status_code == 404
    assert "истекло" in parent.get("/trusted/").text


def test_the_invitee_can_decline(
    parent: FlaskClient, granny: FlaskClient, fake_app: Flask, linked: tuple[int, int]
) -> None:
    anna, _ = linked
    with fake_app.app_context():
        token = _invite(parent, anna, "schedule")
    granny.post(f"/trusted/accept/{token}", data={"decision": "decline"})
    assert "отклонено" in parent.get("/trusted/").text
    assert granny.get(f"/child/{anna}").status_code == 404


@pytest.mark.parametrize(
    ("fields", "problem"),
    [({"phone": "", "email": ""}, "Укажите телефон"), ({"name": " "}, "Укажите ФИО")],
)
def test_a_bad_invitation_is_explained_and_stores_nothing(
    parent: FlaskClient,
    fake_app: Flask,
    linked: tuple[int, int],
    fields: dict[str, str],
    problem: str,
) -> None:
    anna, _ = linked
    data = {"name": GRANNY, "phone": GRANNY_PHONE, f"scope-{anna}": "schedule", **fields}
    reply = parent.post("/trusted/invite", data=data)
    assert problem in reply.text
    no_scope = parent.post("/trusted/invite", data={"name": GRANNY, "phone": GRANNY_PHONE})
    assert "Отметьте хотя бы один раздел" in no_scope.text
    with fake_app.app_context():
        assert db.session.scalars(select(Grant)).all() == []


def test_a_trusted_person_cannot_manage_the_child(
    parent: FlaskClient, granny: FlaskClient, fake_app: Flask, linked: tuple[int, int]
) -> None:
    anna, _ = linked
    with fake_app.app_context():
        token = _invite(parent, anna, "schedule", "grades")
    granny.post(f"/trusted/accept/{token}", data={"decision": "accept"})
    assert granny.post(f"/children/{anna}/rename", data={"name": "x"}).status_code == 404
    assert granny.post(f"/children/{anna}/unlink").status_code == 404
    assert granny.get(f"/child/{anna}/grades.csv").status_code == 404
    assert granny.get(f"/child/{anna}/calendar").status_code == 404
    invite_page = granny.get("/trusted/invite").text
    assert f"scope-{anna}" not in invite_page  # nobody else's children to share


def test_an_invitee_who_is_not_signed_in_is_asked_to_sign_in_or_register(
    parent: FlaskClient, fake_app: Flask, linked: tuple[int, int]
) -> None:
    anna, _ = linked
    with fake_app.app_context():
        token = _invite(parent, anna, "schedule")
    page = fake_app.test_client().get(f"/trusted/accept/{token}")
    assert page.status_code == 200
    assert "/register/" in page.text and f"next=/trusted/accept/{token}" in page.text


def test_removing_a_trusted_person_closes_and_forgets_their_access(
    parent: FlaskClient, granny: FlaskClient, fake_app: Flask, linked: tuple[int, int]
) -> None:
    anna, _ = linked
    with fake_app.app_context():
        token = _invite(parent, anna, "schedule")
    granny.post(f"/trusted/accept/{token}", data={"decision": "accept"})
    with fake_app.app_context():
        grantee = db.session.scalar(select(Grant.grantee_id))
    assert parent.post(f"/trusted/person/{grantee}/remove").status_code == 303
    assert granny.get(f"/child/{anna}").status_code == 404
    with fake_app.app_context():
        assert db.session.scalars(select(Grant)).all() == []
    assert "удалено" in parent.get("/trusted/audit").text
