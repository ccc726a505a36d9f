"""The parent names each child while linking, on every path, prefilled with a free ChildN."""

from __future__ import annotations

import datetime as dt
import re
import typing as t
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from connectors.schema import Student
from gateway.extensions import db
from gateway.models import AccessApplication
from gateway.models import ChildLink
from gateway.models import LinkStatus
from tests.gateway.conftest import make_operator
from tests.gateway.conftest import make_person
from tests.gateway.conftest import signed_in
from tests.gateway.fakes import FakeSchool
from tests.gateway.test_applications import FORM
from tests.gateway.test_applications import PAVEL

SOLO = {"login": "solo", "password": "pw"}


@pytest.fixture
def solo(school: FakeSchool) -> FakeSchool:
    """Add a login that shows one student."""
    school.accounts["solo"] = ("pw", [Student(id="s3", full_name="Иванова Вера", class_name="1А")])
    return school


def _names(app: Flask) -> list[tuple[str, str]]:
    with app.app_context():
        links = db.session.scalars(select(ChildLink).order_by(ChildLink.position))
        return [(c.display_name, c.full_name) for c in links]


def _prefilled(page: str, field: str = "name") -> str:
    found = re.search(rf'<input[^>]*name="{field}"[^>]*value="([^"]*)"', page)
    assert found, f"no prefilled {field}"
    return found.group(1)


def test_a_child_named_after_herself_is_announced_by_her_name_once(
    parent: FlaskClient, fake_app: Flask, solo: FakeSchool
) -> None:
    done = parent.post("/children/link/test-fake", data={**SOLO, "name": "Вера"})
    assert done.status_code == 303
    page = parent.get("/").text
    assert "Привязаны: Иванова Вера" in page and "Вера — Иванова Вера" not in page


def test_the_link_form_offers_the_next_free_child_name_and_links_with_the_typed_one(
    parent: FlaskClient, fake_app: Flask, solo: FakeSchool
) -> None:
    assert _prefilled(parent.get("/children/link/test-fake").text) == "Child1"
    done = parent.post("/children/link/test-fake", data={**SOLO, "name": "  Верочка  "})
    assert done.status_code == 303 and done.headers["Location"].endswith("/")
    assert _names(fake_app) == [("Верочка", "Иванова Вера")]
    assert "Верочка — Иванова Вера" in parent.get("/").text
    assert _prefilled(parent.get("/children/link/test-fake").text) == "Child1"


def test_the_prefill_skips_names_already_taken(
    parent: FlaskClient, fake_app: Flask, solo: FakeSchool
) -> None:
    parent.post("/children/link/test-fake", data={**SOLO, "name": "Child1"})
    assert _prefilled(parent.get("/children/link/test-fake").text) == "Child2"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "Введите имя."),
        ("   ", "Введите имя."),
        ("В" * 41, "Имя — не больше 40 знаков."),
        ("Вера\x00", "Уберите служебные символы"),
        ("Вера\tВера", "Уберите служебные символы"),
    ],
)
def test_a_bad_name_is_refused_next_to_the_field_and_nothing_is_linked(
    parent: FlaskClient, fake_app: Flask, solo: FakeSchool, name: str, message: str
) -> None:
    page = parent.post("/children/link/test-fake", data={**SOLO, "name": name})
    assert page.status_code == 200 and message in page.text
    assert 'value="solo"' in page.text
    assert _names(fake_app) == [] and solo.calls["login"] == 0


def test_the_sms_code_step_keeps_the_typed_name_and_may_change_it(
    parent: FlaskClient, fake_app: Flask, solo: FakeSchool
) -> None:
    solo.sms_for.add("solo")
    parent.post("/children/link/test-fake", data={**SOLO, "name": "Вера"})
    assert _prefilled(parent.get("/children/link/test-fake/code").text) == "Вера"
    wrong = parent.post("/children/link/test-fake/code", data={"code": "1", "name": ""})
    assert "Введите имя." in wrong.text and "Код состоит из цифр" in wrong.text
    done = parent.post("/children/link/test-fake/code", data={"code": "424242", "name": "Верунчик"})
    assert done.status_code == 303
    assert _names(fake_app) == [("Верунчик", "Иванова Вера")]


def test_several_students_under_one_login_are_each_named(
    parent: FlaskClient, fake_app: Flask, school: FakeSchool
) -> None:
    done = parent.post("/children/link/test-fake", data={"login": "parent", "password": "secret"})
    assert done.headers["Location"].endswith("/children/names")
    page = parent.get("/children/names").text
    assert "Иванова Анна" in page and "Иванов Пётр" in page
    assert _prefilled(page, "names-0") == "Child1" and _prefilled(page, "names-1") == "Child2"

    refused = parent.post("/children/names", data={"names-0": "Аня", "names-1": "П" * 41})
    assert "Имя — не больше 40 знаков." in refused.text and 'value="Аня"' in refused.text
    assert _names(fake_app) == [("Child1", "Иванова Анна"), ("Child2", "Иванов Пётр")]

    saved = parent.post("/children/names", data={"names-0": "Аня", "names-1": "Петя"})
    assert saved.status_code == 303
    assert _names(fake_app) == [("Аня", "Иванова Анна"), ("Петя", "Иванов Пётр")]
    assert parent.get("/children/names").status_code == 302  # nothing left to name


def test_the_backends_own_sign_in_page_leads_to_naming(
    parent: FlaskClient, fake_app: Flask, school: FakeSchool
) -> None:
    away = parent.get("/children/link/test-oauth/authorize")
    state = parse_qs(urlsplit(away.headers["Location"]).query)["state"][0]
    back = parent.get(f"/children/oauth/callback?code=good&state={state}")
    assert back.headers["Location"].endswith("/children/names")
    parent.post("/children/names", data={"names-0": "Аня", "names-1": "Петя"})
    assert _names(fake_app) == [("Аня", "Иванова Анна"), ("Петя", "Иванов Пётр")]


def test_relinking_keeps_the_names_the_parent_gave(
    parent: FlaskClient, fake_app: Flask, solo: FakeSchool
) -> None:
    parent.post("/children/link/test-fake", data={**SOLO, "name": "Вера"})
    with fake_app.app_context():
        for link in db.session.scalars(select(ChildLink)):
            link.status = LinkStatus.RELINK_REQUIRED
        db.session.commit()
    again = parent.post("/children/link/test-fake", data={**SOLO, "name": "Child9"})
    assert again.status_code == 303 and again.headers["Location"].endswith("/")
    assert _names(fake_app) == [("Вера", "Иванова Вера")]


def test_an_approved_application_links_the_child_under_the_name_the_parent_gave(
    operator_app: Flask, school: FakeSchool
) -> None:
    school.roster[("Новикова София Павловна", dt.date(2012, 10, 5))] = "s7"
    pavel = signed_in(
        operator_app, make_person(operator_app, "pavel", PAVEL, birthdate="1984-02-17")
    )
    assert _prefilled(pavel.get("/children/applications/new").text, "display_name") == "Child1"
    sent = pavel.post("/children/applications/new", data={**FORM, "display_name": "Соня"})
    assert sent.status_code == 303
    with operator_app.app_context():
        app_id = db.session.scalar(select(AccessApplication.id))
    operator = signed_in(operator_app, make_operator(operator_app, "63"))
    assert operator.post(f"/operator/applications/{app_id}/approve").status_code == 303
    assert _names(operator_app) == [("Соня", "Новикова София Павловна")]


@pytest.mark.parametrize(
    ("name", "message"), [("", "Введите имя."), ("С" * 41, "Имя — не больше 40 знаков.")]
)
def test_the_application_refuses_a_bad_name_with_the_rest_of_the_form_kept(
    operator_app: Flask, name: str, message: str, school: t.Any
) -> None:
    pavel = signed_in(
        operator_app, make_person(operator_app, "pavel", PAVEL, birthdate="1984-02-17")
    )
    page = pavel.post("/children/applications/new", data={**FORM, "display_name": name})
    assert page.status_code == 200 and message in page.text
    assert "Новикова София Павловна" in page.text
