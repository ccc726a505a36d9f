"""A child's header: school and class from the backend, kept up to date by later sign-ins."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from connectors.schema import Student
from gateway.extensions import db
from gateway.models import ChildLink
from tests.gateway.fakes import FakeSchool


def _anna(parent: FlaskClient, app: Flask) -> int:
    reply = parent.post("/children/link/test-fake", data={"login": "parent", "password": "secret"})
    assert reply.status_code == 303
    with app.app_context():
        return db.session.scalar(select(ChildLink.id).where(ChildLink.external_id == "s1"))


def test_the_header_and_the_card_name_the_school_and_the_class(
    parent: FlaskClient, fake_app: Flask, school: FakeSchool
) -> None:
    school.accounts["parent"][1][0] = Student(
        id="s1", full_name="Иванова Анна Сергеевна", school="Школа № 5", class_name="3 «А»"
    )
    anna = _anna(parent, fake_app)
    line = "Иванова Анна Сергеевна · Школа № 5 · 3 «А» · Тестовая область"
    assert line in parent.get(f"/child/{anna}").text
    assert line in parent.get("/").text


def test_a_new_class_reaches_the_header_at_the_next_sign_in(
    parent: FlaskClient, fake_app: Flask, school: FakeSchool
) -> None:
    anna = _anna(parent, fake_app)
    assert "Иванова Анна · 3А" in parent.get(f"/child/{anna}").text
    school.accounts["parent"][1][0] = Student(
        id="s1", full_name="Иванова Анна Сергеевна", school="Лицей № 2", class_name="4 «Б»"
    )
    school.expired_tokens.add("t1")  # the next fetch signs in again
    page = parent.get(f"/child/{anna}?section=schedule").text
    assert "Иванова Анна Сергеевна · Лицей № 2 · 4 «Б»" in page
    with fake_app.app_context():
        link = db.session.get(ChildLink, anna)
        assert (link.full_name, link.school, link.class_name) == (
            "Иванова Анна Сергеевна",
            "Лицей № 2",
            "4 «Б»",
        )
