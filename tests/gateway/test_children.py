"""Linking children: verified by the backend, stored encrypted, nothing half-stored on failure."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from gateway.extensions import db
from gateway.models import ChildLink
from gateway.models import SchoolCredential
from tests.gateway.fakes import FakeSchool


def _links(app: Flask) -> list[ChildLink]:
    with app.app_context():
        return list(db.session.scalars(select(ChildLink).order_by(ChildLink.position)))


def _credentials(app: Flask) -> list[SchoolCredential]:
    with app.app_context():
        return list(db.session.scalars(select(SchoolCredential)))


def test_region_choice_lists_enabled_instances(parent: FlaskClient) -> None:
    page = parent.get("/children/link")
    assert page.status_code == 200
    assert "Тестовая область" in page.text


def test_a_login_with_two_students_links_both_as_child1_and_child2(
    parent: FlaskClient, fake_app: Flask
) -> None:
    reply = parent.post("/children/link/test-fake", data={"login": "parent", "password": "secret"})
    assert reply.status_code == 303
    links = _links(fake_app)
    assert [(x.display_name, x.full_name) for x in links] == [
        ("Child1", "Иванова Анна"),
        ("Child2", "Иванов Пётр"),
    ]
    [credential] = _credentials(fake_app)
    assert b"secret" not in credential.secret
    assert {x.credential_id for x in links} == {credential.id}
    family = parent.get("/")
    assert "Child1" in family.text and "Иванов Пётр" in family.text


def test_a_wrong_school_password_stores_nothing_and_says_why(
    parent: FlaskClient, fake_app: Flask
) -> None:
    reply = parent.post("/children/link/test-fake", data={"login": "parent", "password": "wrong"})
    assert reply.status_code == 200
    assert "не приняла логин или пароль" in reply.text
    assert 'value="parent"' in reply.text  # the login survives, the password does not
    assert "wrong" not in reply.text
    assert _links(fake_app) == [] and _credentials(fake_app) == []


def test_a_backend_that_is_down_stores_nothing_and_says_so(
    parent: FlaskClient, fake_app: Flask, school: FakeSchool
) -> None:
    school.down = True
    reply = parent.post("/children/link/test-fake", data={"login": "parent", "password": "secret"})
    assert "сейчас не отвечает" in reply.text
    assert _links(fake_app) == [] and _credentials(fake_app) == []


def test_an_unknown_region_is_a_clear_404(parent: FlaskClient) -> None:
    reply = parent.get("/children/link/atlantis")
    assert reply.status_code == 404
    assert "Такой страницы нет" in reply.text


def test_empty_fields_are_explained_next_to_the_field(parent: FlaskClient) -> None:
    reply = parent.post("/children/link/test-fake", data={"login": "", "password": ""})
    assert "Введите логин." in reply.text and "Введите пароль." in reply.text


def test_linking_needs_a_signed_in_person(fake_app: Flask) -> None:
    reply = fake_app.test_client().get("/children/link")
    assert reply.status_code == 302
    assert "/login" in reply.headers["Location"]
