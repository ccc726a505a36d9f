"""Between two whole reads a day, the sync asks only the recent window: one period for every
section (so that a system serving several from one answer is asked once), merged into the
snapshot the pages read; the day's first sync reads the whole period and finds older edits."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import typing as t

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from connectors import codec
from connectors.schema import Homework
from connectors.schema import Period
from connectors.schema import Section
from gateway.extensions import db
from gateway.models import RecordChange
from gateway.models import SectionSnapshot
from gateway.services import periods
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
RECENT = periods.recent_window(TODAY)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return pin_clock(monkeypatch, MORNING)


def _changes(app: Flask) -> list[tuple[str, str, str | None, str | None]]:
    with app.app_context():
        rows = db.session.scalars(select(RecordChange).order_by(RecordChange.id)).all()
        return [
            (
                c.section,
                c.kind.value,
                (c.before or {}).get("value"),
                (c.after or {}).get("value"),
            )
            for c in rows
        ]


def _sync(app: Flask, school: FakeSchool, clock: Clock) -> list[tuple[str, str, Period]]:
    """Sync every section now; return what was asked of the school, by section."""
    school.asked.clear()
    due_now(app, clock.at)
    drain(app)
    return [(section.value, student, period) for section, student, period in school.asked]


def _marks_shown(parent: FlaskClient, link: int) -> list[str]:
    """Return the marks of the child's page as «id=value», sorted."""
    page = parent.get(f"/child/{link}")
    assert page.status_code == 200
    rows = re.findall(r'data-grade-id="([^"]+)".*?class="mark[^"]*">([^<]+)<', page.text, re.S)
    return sorted(f"{grade_id}={value}" for grade_id, value in rows)


def _shown(app: Flask, link: int, section: Section, today: dt.date) -> list[t.Any]:
    """Return the records of the snapshot the pages open a section on."""
    period = periods.default_period(section, today)
    with app.app_context():
        [snapshot] = db.session.scalars(
            select(SectionSnapshot).where(
                SectionSnapshot.link_id == link,
                SectionSnapshot.section == section.value,
                SectionSnapshot.period_start == period.start,
            )
        ).all()
        return codec.decode(section, snapshot.payload)


def _month_snapshot(app: Flask, link: int, today: dt.date) -> list[str]:
    return sorted(f"{g.id}={g.value}" for g in _shown(app, link, Section.GRADES, today))


def test_the_days_later_syncs_ask_one_recent_window_for_every_section(
    parent: FlaskClient, fake_app: Flask, school: FakeSchool, clock: Clock
) -> None:
    link_children(parent, fake_app)
    drain(fake_app)  # the baseline and the school year
    clock.advance(minutes=25)
    asked = _sync(fake_app, school, clock)
    sections = {section for section, _, _ in asked}
    assert {"grades", "schedule", "homework", "attendance"} <= sections
    assert {period for _, _, period in asked} == {RECENT}
    # Each section of each child once: nothing is asked twice within one sync.
    assert len(asked) == len(set(asked))
    with fake_app.app_context():
        starts = set(db.session.scalars(select(SectionSnapshot.period_start)))
    assert RECENT.start not in starts  # merged into the pages' snapshots, not kept apart


def test_a_section_whose_snapshot_is_gone_is_read_whole_again(
    parent: FlaskClient, fake_app: Flask, school: FakeSchool, clock: Clock
) -> None:
    link_children(parent, fake_app)
    drain(fake_app)
    month = periods.last_school_month(TODAY)
    with fake_app.app_context():
        db.session.execute(
            sa.delete(SectionSnapshot).where(
                SectionSnapshot.section == "grades", SectionSnapshot.period_start == month.start
            )
        )
        db.session.commit()
    clock.advance(minutes=25)
    asked = {(section, period) for section, _, period in _sync(fake_app, school, clock)}
    assert ("grades", month) in asked and ("grades", RECENT) not in asked
    assert ("homework", RECENT) in asked


def test_the_first_sync_of_a_day_reads_every_sections_whole_period(
    parent: FlaskClient, fake_app: Flask, school: FakeSchool, clock: Clock
) -> None:
    link_children(parent, fake_app)
    drain(fake_app)
    clock.advance(hours=24)
    tomorrow = TODAY + dt.timedelta(days=1)
    asked = _sync(fake_app, school, clock)
    assert {(section, period) for section, _, period in asked} == {
        (section, periods.default_period(Section(section), tomorrow)) for section, _, _ in asked
    }
    assert ("grades", periods.last_school_month(tomorrow)) in {(s, p) for s, _, p in asked}


def test_a_short_read_merges_into_the_month_the_page_shows_and_an_older_edit_waits_a_day(
    parent: FlaskClient, fake_app: Flask, school: FakeSchool, clock: Clock
) -> None:
    first, _ = link_children(parent, fake_app)
    marks = school.grades["s1"]
    grade(marks, id="old", value="4", numeric=4.0, date=TODAY - dt.timedelta(days=20))
    drain(fake_app)
    assert _marks_shown(parent, first) == ["old=4"]

    clock.advance(minutes=25)
    grade(marks, id="new", value="5", numeric=5.0, date=TODAY)
    marks[0] = dataclasses.replace(marks[0], value="3", numeric=3.0)  # edited after the fact
    _sync(fake_app, school, clock)
    assert _changes(fake_app) == [("grades", "added", None, "5")]
    asked = sum(school.calls.values())
    # The month keeps its older mark as last read beside the new one; the page asks nothing.
    assert _marks_shown(parent, first) == ["new=5", "old=4"]
    assert sum(school.calls.values()) == asked

    clock.advance(hours=15)  # past midnight in Moscow: the day's first sync reads the month
    _sync(fake_app, school, clock)
    assert _changes(fake_app)[1:] == [("grades", "modified", "4", "3")]
    # (The parent's session ended overnight; the page would read this snapshot.)
    assert _month_snapshot(fake_app, first, TODAY + dt.timedelta(days=1)) == ["new=5", "old=3"]


def test_a_mark_removed_within_the_window_is_news_at_the_next_short_read(
    parent: FlaskClient, fake_app: Flask, school: FakeSchool, clock: Clock
) -> None:
    first, _ = link_children(parent, fake_app)
    marks = school.grades["s1"]
    grade(marks, id="old", value="4", numeric=4.0, date=TODAY - dt.timedelta(days=20))
    grade(marks, id="today", value="2", numeric=2.0, date=TODAY)
    drain(fake_app)
    clock.advance(minutes=25)
    del marks[1]
    _sync(fake_app, school, clock)
    assert _changes(fake_app) == [("grades", "removed", "2", None)]
    assert _marks_shown(parent, first) == ["old=4"]


def test_the_days_first_sync_reads_whole_even_after_a_page_stored_the_days_snapshot(
    parent: FlaskClient, fake_app: Flask, school: FakeSchool, clock: Clock, parent_id: int
) -> None:
    first, _ = link_children(parent, fake_app)
    marks = school.grades["s1"]
    grade(marks, id="old", value="4", numeric=4.0, date=TODAY - dt.timedelta(days=20))
    drain(fake_app)
    clock.advance(hours=15)  # past midnight in Moscow
    marks[0] = dataclasses.replace(marks[0], value="3", numeric=3.0)
    morning = signed_in(fake_app, parent_id, now=clock.at)  # the evening's session ended
    assert morning.get(f"/child/{first}").status_code == 200  # stores the new day's month
    tomorrow = TODAY + dt.timedelta(days=1)
    assert _month_snapshot(fake_app, first, tomorrow) == ["old=3"]
    asked = _sync(fake_app, school, clock)
    assert ("grades", "s1", periods.last_school_month(tomorrow)) in asked
    assert _changes(fake_app) == [("grades", "modified", "4", "3")]


def test_a_short_read_of_a_plan_keeps_the_days_beyond_the_window_and_takes_a_moved_one(
    parent: FlaskClient, fake_app: Flask, school: FakeSchool, clock: Clock
) -> None:
    first, _ = link_children(parent, fake_app)
    homework = school.records[Section.HOMEWORK]["s1"]
    far = TODAY + dt.timedelta(days=10)  # beyond the week ahead the short read asks
    homework += [
        Homework(id="far", subject="Чтение", text="Стих", due_on=far),
        Homework(id="moved", subject="ИЗО", text="Рисунок", due_on=far),
    ]
    drain(fake_app)
    clock.advance(minutes=35)
    homework[1] = dataclasses.replace(homework[1], due_on=TODAY + dt.timedelta(days=2))
    _sync(fake_app, school, clock)
    shown = _shown(fake_app, first, Section.HOMEWORK, TODAY)
    assert sorted((h.id, h.due_on) for h in shown) == [
        ("far", far),
        ("moved", TODAY + dt.timedelta(days=2)),
    ]


def test_a_failed_short_read_marks_the_pages_snapshot_as_failed(
    parent: FlaskClient, fake_app: Flask, school: FakeSchool, clock: Clock
) -> None:
    link_children(parent, fake_app)
    drain(fake_app)
    clock.advance(minutes=25)
    school.down = True
    _sync(fake_app, school, clock)
    month = periods.last_school_month(TODAY)
    with fake_app.app_context():
        failed = db.session.scalars(
            select(SectionSnapshot.failed_at).where(
                SectionSnapshot.section == "grades", SectionSnapshot.period_start == month.start
            )
        ).all()
    assert failed and all(moment is not None for moment in failed)
