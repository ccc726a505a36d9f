"""The attendance and homework pages show what the sync saw happen, as the grades page
does: an absence whose reason the school changed shows what it was, a lifted one is struck
through and not counted, a task moved or rewritten shows what it said, a withdrawn one is
struck through; each record's history opens in a drawer."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from connectors.schema import Attendance
from connectors.schema import AttendanceKind
from connectors.schema import Homework
from connectors.schema import Section
from tests.gateway.clock import Clock
from tests.gateway.clock import pin_clock
from tests.gateway.conftest import signed_in
from tests.gateway.fakes import FakeSchool
from tests.gateway.sync.helpers import drain
from tests.gateway.sync.helpers import due_now
from tests.gateway.sync.helpers import link_children

MORNING = dt.datetime(2026, 12, 3, 6, 30, tzinfo=dt.UTC)  # 09:30 in Moscow
TODAY = dt.date(2026, 12, 3)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return pin_clock(monkeypatch, MORNING)


def _sync(app: Flask, clock: Clock) -> None:
    due_now(app, clock.at)
    drain(app)


def _page(app: Flask, parent_id: int, clock: Clock, link: int, section: str) -> str:
    page = signed_in(app, parent_id, now=clock.at).get(f"/child/{link}?section={section}")
    assert page.status_code == 200
    return re.sub(r"\s+", " ", html.unescape(page.text))


def _absence(day: dt.date, kind: AttendanceKind, number: int = 2) -> Attendance:
    return Attendance(date=day, kind=kind, subject="Алгебра", lesson_number=number)


def _rows(page: str) -> list[str]:
    return re.findall(r'<tr class="[^"]*kind-.*?</tr>', page)


def test_an_absence_turned_truancy_long_after_shows_what_it_was_and_a_badge(
    parent: FlaskClient, fake_app: Flask, school: FakeSchool, clock: Clock, parent_id: int
) -> None:
    first, _ = link_children(parent, fake_app)
    absences = school.records[Section.ATTENDANCE]["s1"]
    absences.append(_absence(TODAY - dt.timedelta(days=10), AttendanceKind.ILL))
    drain(fake_app)  # the baseline: nothing happened yet
    page = _page(fake_app, parent_id, clock, first, "attendance")
    assert "Изменения" not in page and "История" not in page
    clock.advance(hours=15)  # past midnight in Moscow: the day's first sync reads the month
    absences[0] = _absence(TODAY - dt.timedelta(days=10), AttendanceKind.UNEXCUSED)
    _sync(fake_app, clock)
    [row] = _rows(_page(fake_app, parent_id, clock, first, "attendance"))
    assert "changed" in row.split(">")[0]
    assert '<span class="was">было: болезнь</span>' in row
    assert 'class="badge retroactive"' in row and "изменено 4 дек." in row
    assert "<summary>История</summary>" in row
    assert 'изменено: болезнь → <strong class="truancy">прогул</strong>' in row


def test_a_lifted_absence_is_struck_through_and_not_counted(
    parent: FlaskClient, fake_app: Flask, school: FakeSchool, clock: Clock, parent_id: int
) -> None:
    first, _ = link_children(parent, fake_app)
    absences = school.records[Section.ATTENDANCE]["s1"]
    absences += [_absence(TODAY, AttendanceKind.ABSENT, 1), _absence(TODAY, AttendanceKind.LATE, 3)]
    drain(fake_app)
    clock.advance(minutes=25)
    del absences[0]  # the teacher lifts the morning's absence: he was there
    _sync(fake_app, clock)
    page = _page(fake_app, parent_id, clock, first, "attendance")
    assert "Всего пропусков: 0" in page and "Опозданий: 1" in page
    [removed] = [row for row in _rows(page) if row.startswith('<tr class="removed')]
    assert "<del>отсутствие</del>" in removed and "снято 3 дек." in removed
    assert "(не считается пропуском)" in removed and "снято: отсутствие" in removed


def test_a_first_absence_after_the_baseline_has_its_history(
    parent: FlaskClient, fake_app: Flask, school: FakeSchool, clock: Clock, parent_id: int
) -> None:
    first, _ = link_children(parent, fake_app)
    drain(fake_app)
    clock.advance(minutes=25)
    school.records[Section.ATTENDANCE]["s1"].append(_absence(TODAY, AttendanceKind.UNEXCUSED))
    _sync(fake_app, clock)
    [row] = _rows(_page(fake_app, parent_id, clock, first, "attendance"))
    assert 'отмечено: <strong class="truancy">прогул</strong>' in row
    assert "retroactive" not in row and "было" not in row


def _task(text: str, due: dt.date, id: str = "hw1") -> Homework:
    return Homework(id=id, subject="Физика", text=text, due_on=due, assigned_on=TODAY)


def test_a_task_moved_and_rewritten_shows_what_it_said_and_a_withdrawn_one_is_struck(
    parent: FlaskClient, fake_app: Flask, school: FakeSchool, clock: Clock, parent_id: int
) -> None:
    first, _ = link_children(parent, fake_app)
    tasks = school.records[Section.HOMEWORK]["s1"]
    tomorrow = TODAY + dt.timedelta(days=1)
    tasks += [_task("§ 12, задачи 1–3", tomorrow), _task("Реферат", tomorrow, id="hw2")]
    drain(fake_app)
    page = _page(fake_app, parent_id, clock, first, "homework")
    assert "История" not in page
    clock.advance(minutes=25)
    tasks[:] = [_task("§ 12–13, задачи 1–5", TODAY + dt.timedelta(days=2))]
    _sync(fake_app, clock)
    page = _page(fake_app, parent_id, clock, first, "homework")
    moved = page[page.index("§ 12–13") - 400 : page.index("Реферат")]
    assert "изменено 3 дек." in moved
    assert "срок перенесён: 4 дек. → 5 дек.; текст изменён, было: «§ 12, задачи 1–3»" in moved
    withdrawn = page[page.index('<li class="homework-item removed">') :]
    assert "<del>Реферат</del>" in withdrawn and "отменено 3 дек." in withdrawn
    assert "задание отменено" in withdrawn
    assert "Заданий в этот период нет" not in page
