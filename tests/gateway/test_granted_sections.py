"""A trusted person sees the granted sections only: no heading, count or «нет» of the rest."""

from __future__ import annotations

import datetime as dt

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from connectors.schema import Attendance
from connectors.schema import AttendanceKind
from connectors.schema import Event
from connectors.schema import EventKind
from connectors.schema import Homework
from connectors.schema import Lesson
from connectors.schema import Message
from connectors.schema import Section
from connectors.schema import Student
from gateway.extensions import db
from gateway.models import ChildLink
from gateway.models import User
from gateway.runtime import services
from gateway.services import trust
from tests.gateway.clock import pin_clock
from tests.gateway.conftest import make_parent
from tests.gateway.conftest import signed_in
from tests.gateway.fakes import FakeSchool
from tests.gateway.fakes import grade

NOW = dt.datetime(2026, 5, 20, 6, 0, tzinfo=dt.UTC)
TODAY = NOW.date()
GALINA = "Смирнова Галина Ивановна"
# What the family card and the child page show of each section the grant leaves out.
NOT_GRANTED = {
    "grades": ["Новые оценки", "Новых оценок нет", "Оценки", "оценок нет", "Средний балл"],
    "attendance": ["Пропуски", "Пропусков нет", "Посещаемость", "прогул"],
    "events": ["Ближайшие собрания", "Событий нет", "События", "Родительское собрание"],
    "messages": ["Сообщения учителя", "Сообщений нет", "Сообщения", "Экскурсия"],
    "rating": ["Рейтинг", "место из"],
    "exports": ["Версия для печати", "Скачать CSV", "Календарь"],
}


def _fill(school: FakeSchool) -> None:
    """Give Полина a little of every section."""
    school.accounts["irina"] = (
        "secret",
        [Student(id="s1", full_name="Смирнова Полина Дмитриевна", class_name="2 «А»")],
    )
    records = school.records
    records[Section.SCHEDULE]["s1"].append(
        Lesson(id="l1", date=TODAY, number=1, subject="Чтение", starts_at=dt.time(8, 30))
    )
    records[Section.HOMEWORK]["s1"].append(
        Homework(id="h1", subject="Чтение", text="Стих наизусть", due_on=TODAY)
    )
    records[Section.ATTENDANCE]["s1"].append(
        Attendance(date=TODAY - dt.timedelta(days=1), kind=AttendanceKind.UNEXCUSED)
    )
    starts = dt.datetime.combine(TODAY + dt.timedelta(days=4), dt.time(18), dt.UTC)
    meeting = Event(
        id="e1", kind=EventKind.PARENT_MEETING, title="Родительское собрание", starts_at=starts
    )
    records[Section.EVENTS]["s1"].append(meeting)
    records[Section.MESSAGES]["s1"].append(
        Message(
            id="m1",
            sender="Учитель",
            subject="Экскурсия",
            body="Подпишите",
            sent_at=NOW,
            needs_acknowledgement=True,
        )
    )
    grade(school.grades["s1"], value="5", numeric=5.0, date=TODAY, comment="Молодец")


@pytest.fixture
def galina(
    fake_app: Flask, school: FakeSchool, monkeypatch: pytest.MonkeyPatch
) -> tuple[FlaskClient, int]:
    """Ирина links Полина and gives Галина her schedule and homework only."""
    pin_clock(monkeypatch, NOW)
    _fill(school)
    irina_id = make_parent(fake_app, "irina", "Смирнова Ирина Сергеевна")
    irina = signed_in(fake_app, irina_id)
    irina.post("/children/link/test-fake", data={"login": "irina", "password": "secret"})
    galina_id = make_parent(fake_app, "galina", GALINA, phone="+79000000003")
    with fake_app.app_context():
        polina = db.session.scalar(select(ChildLink.id))
        invitation = trust.Invitation(
            name=GALINA,
            phone="+79000000003",
            email=None,
            scopes={polina: {Section.SCHEDULE, Section.HOMEWORK}},
            ends_on=None,
        )
        owner = db.session.get(User, irina_id)
        grant, _ = trust.invite(
            db.session,
            owner,  # type: ignore[arg-type]
            invitation,
            now=NOW,
            accept_url="/{token}",
            vault=services().vault,
        )
        person = db.session.get(User, galina_id)
        trust.accept(db.session, grant, person, now=NOW, delay=dt.timedelta())  # type: ignore[arg-type]
        db.session.commit()
    return signed_in(fake_app, galina_id), polina


def _main(page: str) -> str:
    """Return the page below the site's header (whose menu is the same for everyone)."""
    return page[page.index("<main") :]


def _leaks(page: str) -> list[str]:
    return [text for texts in NOT_GRANTED.values() for text in texts if text in page]


def test_the_family_card_shows_only_the_granted_sections(
    galina: tuple[FlaskClient, int],
) -> None:
    client, _ = galina
    page = _main(client.get("/").text)
    assert "Чтение" in page and "Стих наизусть" in page and "Сегодня" in page
    assert _leaks(page) == []


@pytest.mark.parametrize("section", ["schedule", "homework"])
def test_the_child_page_shows_only_the_granted_tabs(
    galina: tuple[FlaskClient, int], section: str
) -> None:
    client, polina = galina
    page = _main(client.get(f"/child/{polina}?section={section}").text)
    assert "Расписание" in page and "Домашние задания" in page
    assert _leaks(page) == []


@pytest.mark.parametrize("section", ["grades", "attendance", "events", "messages", "rating"])
def test_the_other_sections_are_not_there(galina: tuple[FlaskClient, int], section: str) -> None:
    client, polina = galina
    assert client.get(f"/child/{polina}?section={section}").status_code == 404
