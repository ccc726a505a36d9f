"""Every page that names a child shows the real name beside the account name."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from icalendar import Calendar
from sqlalchemy import select

from connectors.schema import Section
from gateway.extensions import db
from gateway.models import ChildLink
from tests.gateway.conftest import invitation_token_sent
from tests.gateway.conftest import make_parent
from tests.gateway.conftest import signed_in
from tests.gateway.fakes import FakeSchool
from tests.gateway.test_exports import _issue_feed
from tests.gateway.test_family import MEETING

ANNA = "Child1 — Иванова Анна"
PETR = "Child2 — Иванов Пётр"
GRANNY = ("Смирнова Галина Ивановна", "+79000000003")


@pytest.fixture
def anna(parent: FlaskClient, fake_app: Flask, school: FakeSchool) -> int:
    """Link both fake children, who share a parent meeting; return Анна's link id."""
    school.records[Section.EVENTS]["s1"].append(MEETING)
    school.records[Section.EVENTS]["s2"].append(MEETING)
    reply = parent.post("/children/link/test-fake", data={"login": "parent", "password": "secret"})
    assert reply.status_code == 303
    with fake_app.app_context():
        return db.session.scalar(select(ChildLink.id).where(ChildLink.external_id == "s1"))


def _title(html: str) -> str:
    found = re.search(r"<title>(.*?)</title>", html, re.S)
    assert found is not None
    return found[1]


@pytest.mark.parametrize(
    "page",
    ["/child/{id}", "/child/{id}/calendar", "/child/{id}/grades/print", "/children/{id}/unlink"],
)
def test_the_childs_own_pages_name_the_child_in_the_title_and_the_heading(
    parent: FlaskClient, anna: int, page: str
) -> None:
    html = parent.get(page.format(id=anna)).text
    assert ANNA in _title(html)
    heading = re.search(r"<h1>(.*?)</h1>", html, re.S)
    assert heading is not None and "Иванова Анна" in heading[1]


def test_the_family_page_names_each_child_on_its_card_and_beside_shared_events(
    parent: FlaskClient, anna: int
) -> None:
    page = parent.get("/").text
    assert f">{ANNA}</a></h2>" in page and f">{PETR}</a></h2>" in page
    assert f"({ANNA}, {PETR})" in page  # the meeting both children share


def test_the_settings_page_names_each_child(parent: FlaskClient, anna: int) -> None:
    page = parent.get("/children/").text
    assert f'aria-label="Ниже: {ANNA}"' in page and f'aria-label="Выше: {PETR}"' in page


def test_trusted_person_pages_name_the_child(
    parent: FlaskClient, fake_app: Flask, anna: int
) -> None:
    form = {"name": GRANNY[0], "phone": "8 (900) 000-00-03", f"scope-{anna}": ["schedule"]}
    assert ANNA in parent.get("/trusted/invite").text
    assert parent.post("/trusted/invite", data=form).status_code == 303
    assert f"{ANNA}: Расписание" in parent.get("/trusted/").text
    with fake_app.app_context():
        token = invitation_token_sent()
    granny = signed_in(fake_app, make_parent(fake_app, "granny", GRANNY[0], phone=GRANNY[1]))
    # Before accepting, the link holder learns the first name only (see trust.preview).
    assert "Анна (Child1): Расписание" in granny.get(f"/trusted/accept/{token}").text
    granny.post(f"/trusted/accept/{token}", data={"decision": "accept"})
    assert ANNA in granny.get("/").text and ANNA in granny.get(f"/child/{anna}").text
    assert ANNA in parent.get("/trusted/audit").text


@pytest.fixture
def named_anna(parent: FlaskClient, fake_app: Flask, anna: int) -> int:
    """Name Анна's account after her, as parents do («анна»); return her link id."""
    reply = parent.post(f"/children/{anna}/rename", data={"name": "анна"})
    assert reply.status_code == 303
    return anna


def _repeats(text: str) -> bool:
    return bool(re.search(r"анна\W+(?:иванова\s+)?анна", text, re.I))


def test_an_account_named_after_the_child_shows_her_name_once(
    parent: FlaskClient, named_anna: int
) -> None:
    family = parent.get("/").text
    assert ">Иванова Анна</a></h2>" in family and not _repeats(family)
    for page in ("/child/{id}", "/child/{id}/calendar", "/child/{id}/grades/print", "/children/"):
        html = parent.get(page.format(id=named_anna)).text
        assert not _repeats(html), page
    assert "<title>Иванова Анна — " in parent.get(f"/child/{named_anna}").text


def test_the_csv_and_the_feed_of_such_a_child_name_her_once(
    parent: FlaskClient, fake_app: Flask, named_anna: int
) -> None:
    disposition = parent.get(f"/child/{named_anna}/grades.csv").headers["Content-Disposition"]
    assert "grades_Ivanova_Anna_" in disposition
    assert "%D0%90%D0%BD%D0%BD%D0%B0_%D0%98" not in disposition  # no «Анна_Иванова»
    feed = fake_app.test_client().get(_issue_feed(parent, named_anna))
    assert Calendar.from_ical(feed.data)["X-WR-CALNAME"] == "Дневник: Иванова Анна"


def test_an_invitation_to_such_a_child_names_her_once(
    parent: FlaskClient, fake_app: Flask, named_anna: int
) -> None:
    form = {"name": GRANNY[0], "phone": "8 (900) 000-00-03", f"scope-{named_anna}": ["schedule"]}
    assert parent.post("/trusted/invite", data=form).status_code == 303
    with fake_app.app_context():
        token = invitation_token_sent()
    granny = signed_in(fake_app, make_parent(fake_app, "granny", GRANNY[0], phone=GRANNY[1]))
    page = granny.get(f"/trusted/accept/{token}").text
    assert "<li>анна: Расписание" in page and not _repeats(page)
