"""Which dates a child's tabs open on, and a period picker that explains what it refuses."""

from __future__ import annotations

import datetime as dt
import html
import re

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
from connectors.schema import Section
from gateway.extensions import db
from gateway.models import ChildLink
from tests.gateway.clock import Clock
from tests.gateway.clock import pin_clock
from tests.gateway.fakes import FakeSchool
from tests.gateway.fakes import grade

NOW = dt.datetime(2026, 5, 20, 7, 0, tzinfo=dt.UTC)  # a Wednesday in May
TODAY = NOW.date()


def _days(n: int) -> dt.date:
    return TODAY + dt.timedelta(days=n)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """Pin the gateway's today to a day late in the school year."""
    return pin_clock(monkeypatch, NOW)


@pytest.fixture
def anna(parent: FlaskClient, fake_app: Flask, school: FakeSchool, clock: Clock) -> int:
    """Fill Анна's school with past and coming records, link her; return her id."""
    records = school.records
    records[Section.EVENTS]["s1"] += [
        _event("e-old", "Субботник", -10),
        _event("e-soon", "Родительское собрание", 4),
    ]
    records[Section.HOMEWORK]["s1"] += [
        Homework(id="h-old", subject="Чтение", text="Старое задание", due_on=_days(-12)),
        Homework(id="h-later", subject="Чтение", text="Пересказ", due_on=_days(6)),
        Homework(id="h-soon", subject="Математика", text="Задачи 1–5", due_on=_days(1)),
    ]
    records[Section.SCHEDULE]["s1"] += [
        Lesson(id="l-old", date=_days(-14), number=1, subject="Черчение"),
        Lesson(id="l-soon", date=_days(2), number=1, subject="Музыка"),
    ]
    records[Section.ATTENDANCE]["s1"].append(
        Attendance(date=_days(-20), kind=AttendanceKind.ILL, subject="Физика")
    )
    grade(school.grades["s1"], value="4", numeric=4.0, date=_days(-25))
    grade(school.grades["s1"], value="2", numeric=2.0, date=dt.date(2025, 9, 15))
    reply = parent.post("/children/link/test-fake", data={"login": "parent", "password": "secret"})
    assert reply.status_code == 303
    with fake_app.app_context():
        return db.session.scalar(select(ChildLink.id).order_by(ChildLink.position))


def _event(id_: str, title: str, in_days: int) -> Event:
    starts = dt.datetime.combine(_days(in_days), dt.time(15, 0), dt.UTC)
    return Event(id=id_, kind=EventKind.PARENT_MEETING, title=title, starts_at=starts)


def _heading(page: str) -> str:
    return html.unescape(re.search(r"<h2>([^<]*)</h2>", page)[1])  # type: ignore[index]


def test_forward_sections_open_on_the_coming_two_weeks_soonest_first(
    parent: FlaskClient, anna: int
) -> None:
    events = parent.get(f"/child/{anna}?section=events").text
    assert "Родительское собрание" in events and "Событий нет" not in events
    assert "Субботник" not in events
    assert _heading(events) == "События: 20 мая — 2 июня"
    homework = parent.get(f"/child/{anna}?section=homework").text
    assert homework.index("Задачи 1–5") < homework.index("Пересказ")
    assert "Старое задание" not in homework
    schedule = parent.get(f"/child/{anna}?section=schedule").text
    assert "Музыка" in schedule and "Черчение" not in schedule


def test_grades_and_attendance_open_on_the_last_school_month(
    parent: FlaskClient, anna: int
) -> None:
    grades = parent.get(f"/child/{anna}?section=grades").text
    assert _heading(grades) == "Оценки: 21 апреля — 20 мая"
    assert grades.count('class="grade"') == 1
    attendance = parent.get(f"/child/{anna}?section=attendance").text
    assert _heading(attendance) == "Посещаемость: 21 апреля — 20 мая" and "Физика" in attendance


def test_the_family_page_and_the_tabs_share_their_fetches(
    parent: FlaskClient, anna: int, school: FakeSchool
) -> None:
    parent.get("/")
    fetched = dict(school.calls)
    for section in ("grades", "schedule", "homework", "attendance", "events", "messages"):
        assert parent.get(f"/child/{anna}?section={section}").status_code == 200
    assert dict(school.calls) == fetched  # every default tab opened on the family's snapshots


def test_the_whole_school_year_can_be_picked(parent: FlaskClient, anna: int) -> None:
    page = parent.get(f"/child/{anna}").text
    link = re.search(r'href="([^"]+)">Весь учебный год<', page)
    assert link is not None and "start=2025-09-01&amp;end=2026-05-20" in link[1]
    year = parent.get(html.unescape(link[1])).text
    assert _heading(year) == "Оценки: 1 сентября 2025 — 20 мая 2026"
    assert year.count('class="grade"') == 2 and 'role="alert"' not in year
    typed = parent.get(f"/child/{anna}?section=grades&start=01.09.2025&end=20.05.2026").text
    assert typed.count('class="grade"') == 2  # the same, typed the Russian way


@pytest.mark.parametrize(
    ("start", "end", "russian", "english"),
    [
        (
            "2025-09-01",
            "2025-09-14",
            "1 сентября 2025 — 14 сентября 2025",
            "1 September 2025 — 14 September 2025",
        ),
        (
            "2025-12-20",
            "2026-01-10",
            "20 декабря 2025 — 10 января 2026",
            "20 December 2025 — 10 January 2026",
        ),
        ("2026-05-01", "2026-05-14", "1 мая — 14 мая", "1 May — 14 May"),
    ],
)
def test_the_caption_names_the_year_of_a_period_outside_this_one(
    parent: FlaskClient, anna: int, start: str, end: str, russian: str, english: str
) -> None:
    picked = f"/child/{anna}?section=grades&start={start}&end={end}"
    assert _heading(parent.get(picked).text) == f"Оценки: {russian}"
    parent.get("/lang/en")
    assert _heading(parent.get(picked).text) == f"Marks: {english}"


def test_a_picked_period_carries_over_to_the_other_tabs(parent: FlaskClient, anna: int) -> None:
    page = parent.get(f"/child/{anna}?section=grades&start=2026-05-01&end=2026-05-10").text
    assert f"/child/{anna}?section=events&amp;start=2026-05-01&amp;end=2026-05-10" in page
    plain = parent.get(f"/child/{anna}?section=grades").text
    assert f'href="/child/{anna}?section=events"' in plain  # each tab opens on its own default


REFUSED = [
    ("2026-05-10", "2026-05-01", "Конец периода раньше его начала."),
    ("2025-01-01", "2026-05-20", "Период длиннее учебного года. Выберите не больше 366 дней."),
    ("вчера", "2026-05-20", "Не получилось прочитать дату «вчера»."),
    ("2026-05-01", "2026-02-31", "Не получилось прочитать дату «2026-02-31»."),
    ("2026-05-01", "", "Укажите обе даты: начало и конец периода."),
    ("", "2026-05-01", "Укажите обе даты: начало и конец периода."),
]


@pytest.mark.parametrize(("start", "end", "message"), REFUSED)
def test_a_refused_period_is_explained_and_keeps_what_was_typed(
    parent: FlaskClient, anna: int, start: str, end: str, message: str
) -> None:
    page = parent.get(f"/child/{anna}", query_string={"start": start, "end": end})
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert message in text and "Показан период по умолчанию." in text
    assert f'name="start" value="{start}"' in text and f'name="end" value="{end}"' in text
    assert _heading(page.text) == "Оценки: 21 апреля — 20 мая"  # and says which one it shows


def test_without_dates_the_picker_shows_the_default_and_no_message(
    parent: FlaskClient, anna: int
) -> None:
    page = parent.get(f"/child/{anna}?section=events&start=&end=").text
    assert 'role="alert"' not in page
    assert 'name="start" value="2026-05-20"' in page and 'name="end" value="2026-06-02"' in page
