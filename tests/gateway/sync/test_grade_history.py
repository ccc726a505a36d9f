"""The grades page shows what the sync saw happen to a mark: what a changed mark was and
when it changed, a removed mark struck through, and a badge for an edit long after the
lesson; each mark's history opens in a drawer."""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.gateway.clock import Clock
from tests.gateway.clock import pin_clock
from tests.gateway.conftest import signed_in
from tests.gateway.fakes import FakeSchool
from tests.gateway.fakes import grade
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


def _row(page: str, grade_id: str) -> str:
    """Return the table row of one mark, its markup with the tags' whitespace squeezed."""
    match = re.search(rf'<tr class="grade[^"]*" data-grade-id="{grade_id}".*?</tr>', page, re.S)
    assert match, f"no row for {grade_id}"
    return re.sub(r"\s+", " ", html.unescape(match[0]))


def _grades_page(app: Flask, parent_id: int, clock: Clock, link: int) -> str:
    page = signed_in(app, parent_id, now=clock.at).get(f"/child/{link}?section=grades")
    assert page.status_code == 200
    return page.text


def test_a_mark_edited_long_after_its_lesson_shows_what_it_was_when_and_a_badge(
    parent: FlaskClient, fake_app: Flask, school: FakeSchool, clock: Clock, parent_id: int
) -> None:
    first, _ = link_children(parent, fake_app)
    marks = school.grades["s1"]
    grade(marks, id="old", value="4", numeric=4.0, date=TODAY - dt.timedelta(days=20))
    drain(fake_app)  # the baseline: no history yet
    page = _grades_page(fake_app, parent_id, clock, first)
    assert "Изменения" not in page and "История" not in page
    clock.advance(hours=15)  # past midnight in Moscow: the day's first sync reads the month
    marks[0] = dataclasses.replace(marks[0], value="3", numeric=3.0)
    _sync(fake_app, clock)
    row = _row(_grades_page(fake_app, parent_id, clock, first), "old")
    assert 'class="grade changed"' in row
    assert '3 <span class="was">было 4</span>' in row
    assert 'class="badge retroactive"' in row and "задним числом" in row
    assert "изменена 4 дек." in row  # 21:30 UTC on the 3rd is 00:30 on the 4th in Moscow
    assert "<summary>История</summary>" in row and "изменена: 4 → 3" in row


def test_a_new_mark_of_today_has_its_history_and_no_badge(
    parent: FlaskClient, fake_app: Flask, school: FakeSchool, clock: Clock, parent_id: int
) -> None:
    first, _ = link_children(parent, fake_app)
    marks = school.grades["s1"]
    grade(marks, id="old", value="4", numeric=4.0, date=TODAY - dt.timedelta(days=3))
    drain(fake_app)
    clock.advance(minutes=25)
    grade(marks, id="new", value="5", numeric=5.0, date=TODAY)
    _sync(fake_app, clock)
    page = _grades_page(fake_app, parent_id, clock, first)
    new, old = _row(page, "new"), _row(page, "old")
    assert "появилась: 5" in new and "retroactive" not in new and "было" not in new
    assert "История" not in old  # the baseline's mark: nothing seen happen to it


def test_a_mark_added_long_after_its_lesson_is_badged(
    parent: FlaskClient, fake_app: Flask, school: FakeSchool, clock: Clock, parent_id: int
) -> None:
    first, _ = link_children(parent, fake_app)
    drain(fake_app)
    clock.advance(hours=15)
    grade(school.grades["s1"], id="late", value="2", numeric=2.0, date=TODAY - dt.timedelta(days=9))
    _sync(fake_app, clock)
    row = _row(_grades_page(fake_app, parent_id, clock, first), "late")
    assert "появилась: 2" in row and 'class="badge retroactive"' in row


def test_the_retroactive_threshold_comes_from_the_config(
    parent: FlaskClient, fake_app: Flask, school: FakeSchool, clock: Clock, parent_id: int
) -> None:
    """config/gateway.toml [diary] retroactive_days: 7 by default; past 20 days, no badge."""
    assert fake_app.config["DIARY_RETROACTIVE_DAYS"] == 7
    first, _ = link_children(parent, fake_app)
    drain(fake_app)
    clock.advance(hours=15)
    grade(school.grades["s1"], id="late", value="2", numeric=2.0, date=TODAY - dt.timedelta(days=9))
    _sync(fake_app, clock)
    fake_app.config["DIARY_RETROACTIVE_DAYS"] = 20
    row = _row(_grades_page(fake_app, parent_id, clock, first), "late")
    assert "появилась: 2" in row and "retroactive" not in row


def test_a_removed_mark_is_struck_through_and_left_out_of_the_average(
    parent: FlaskClient, fake_app: Flask, school: FakeSchool, clock: Clock, parent_id: int
) -> None:
    first, _ = link_children(parent, fake_app)
    marks = school.grades["s1"]
    grade(marks, id="kept", value="5", numeric=5.0, date=TODAY - dt.timedelta(days=1))
    grade(marks, id="gone", value="2", numeric=2.0, date=TODAY)
    drain(fake_app)
    clock.advance(minutes=25)
    del marks[1]
    _sync(fake_app, clock)
    page = _grades_page(fake_app, parent_id, clock, first)
    row = _row(page, "gone")
    assert 'class="grade removed"' in row and "<del>2</del>" in row
    assert "удалена 3 дек." in row and "(не входит в средний балл)" in row
    assert "удалена: 2" in row
    assert re.search(r"Средний балл за период: <strong>5</strong>", re.sub(r"\s+", " ", page))


def test_a_removed_mark_that_comes_back_is_shown_once_with_its_whole_history(
    parent: FlaskClient, fake_app: Flask, school: FakeSchool, clock: Clock, parent_id: int
) -> None:
    first, _ = link_children(parent, fake_app)
    marks = school.grades["s1"]
    back = grade(marks, id="back", value="4", numeric=4.0, date=TODAY)
    drain(fake_app)
    clock.advance(minutes=25)
    marks.clear()
    _sync(fake_app, clock)
    clock.advance(minutes=25)
    marks.append(back)
    _sync(fake_app, clock)
    page = _grades_page(fake_app, parent_id, clock, first)
    assert page.count('data-grade-id="back"') == 1
    row = _row(page, "back")
    assert "removed" not in row.split(">")[0]
    assert row.index("удалена: 4") < row.index("появилась: 4")
