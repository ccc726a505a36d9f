"""A child's page: marks by subject with averages, and what it says when things fail."""

from __future__ import annotations

import datetime as dt
import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from gateway.extensions import db
from gateway.models import ChildLink
from gateway.models import LinkStatus
from gateway.models import SectionSnapshot
from regional_mock.world import demo_today
from tests.gateway.conftest import make_parent
from tests.gateway.conftest import signed_in
from tests.gateway.fakes import FakeSchool
from tests.gateway.fakes import grade


def _link_both(parent: FlaskClient) -> None:
    reply = parent.post("/children/link/test-fake", data={"login": "parent", "password": "secret"})
    assert reply.status_code == 303


def _child_id(app: Flask, display_name: str) -> int:
    with app.app_context():
        return db.session.scalar(select(ChildLink.id).where(ChildLink.display_name == display_name))


def test_the_child_page_shows_marks_by_subject_with_weights_comments_and_averages(
    parent: FlaskClient, fake_app: Flask, school: FakeSchool
) -> None:
    today = demo_today()
    anna = school.grades["s1"]
    grade(anna, value="5", numeric=5.0, weight=10, comment="Отличный разбор у доски")
    grade(anna, value="3", numeric=3.0, weight=40, work_type="Контрольная работа")
    grade(anna, subject="Физкультура", value="зч", numeric=None)
    grade(anna, value="2", numeric=2.0, date=today - dt.timedelta(days=45))  # outside
    _link_both(parent)
    page = parent.get(f"/child/{_child_id(fake_app, 'Child1')}")
    assert page.status_code == 200
    text = page.text
    assert "Отличный разбор у доски" in text and "Контрольная работа" in text
    assert text.count('class="grade"') == 3  # the old mark is outside the month
    assert "3,4" in text  # (5*10 + 3*40) / 50, formatted the Russian way
    assert "зч" in text


def test_reopening_a_page_reuses_the_backend_session(
    parent: FlaskClient, fake_app: Flask, school: FakeSchool
) -> None:
    _link_both(parent)
    child = _child_id(fake_app, "Child1")
    parent.get(f"/child/{child}")
    _age_snapshots(fake_app, dt.timedelta(hours=1))
    parent.get(f"/child/{child}")
    assert school.calls["login"] == 1  # the sign-in of the link itself
    assert school.calls["grades"] == 2


def test_reopening_within_minutes_serves_the_snapshot_without_asking_the_backend(
    parent: FlaskClient, fake_app: Flask, school: FakeSchool
) -> None:
    grade(school.grades["s1"], value="4", numeric=4.0)
    _link_both(parent)
    child = _child_id(fake_app, "Child1")
    first = parent.get(f"/child/{child}")
    second = parent.get(f"/child/{child}")
    assert school.calls["grades"] == 1
    assert second.text.count('class="grade"') == first.text.count('class="grade"') == 1


def _age_snapshots(app: Flask, by: dt.timedelta) -> None:
    with app.app_context():
        for row in db.session.scalars(select(SectionSnapshot)):
            moment = row.fetched_at
            row.fetched_at = moment.replace(tzinfo=moment.tzinfo or dt.UTC) - by
        db.session.commit()


def test_an_expired_backend_session_is_renewed_once_transparently(
    parent: FlaskClient, fake_app: Flask, school: FakeSchool
) -> None:
    _link_both(parent)
    school.expired_tokens.add("t1")
    grade(school.grades["s1"], value="4", numeric=4.0)
    page = parent.get(f"/child/{_child_id(fake_app, 'Child1')}")
    assert page.text.count('class="grade"') == 1
    assert school.calls["login"] == 2


def test_a_changed_school_password_turns_the_link_into_relink_required(
    parent: FlaskClient, fake_app: Flask, school: FakeSchool
) -> None:
    _link_both(parent)
    school.expired_tokens.add("t1")
    school.accounts["parent"] = ("changed", school.accounts["parent"][1])
    page = parent.get(f"/child/{_child_id(fake_app, 'Child1')}")
    assert "не принимает сохранённый пароль" in page.text
    with fake_app.app_context():
        statuses = set(db.session.scalars(select(ChildLink.status)))
    assert statuses == {LinkStatus.RELINK_REQUIRED}
    assert "Привязать заново" in parent.get("/").text


def test_a_backend_that_is_down_gets_a_plain_message_not_an_error(
    parent: FlaskClient, fake_app: Flask, school: FakeSchool
) -> None:
    _link_both(parent)
    school.down = True
    page = parent.get(f"/child/{_child_id(fake_app, 'Child1')}")
    assert page.status_code == 200
    assert "сейчас недоступна" in page.text


def test_another_parent_cannot_see_the_child(
    parent: FlaskClient, fake_app: Flask, school: FakeSchool
) -> None:
    grade(school.grades["s1"], comment="секретный комментарий")
    _link_both(parent)
    child = _child_id(fake_app, "Child1")
    stranger_id = make_parent(fake_app, subject="parent-2", name="Петров Олег")
    stranger = signed_in(fake_app, stranger_id)
    page = stranger.get(f"/child/{child}")
    assert page.status_code == 404
    assert "секретный" not in page.text and "Иванова Анна" not in page.text
    assert school.calls["grades"] == 0


def test_the_progress_chart_draws_the_scale_the_dates_and_each_mark(
    parent: FlaskClient, fake_app: Flask, school: FakeSchool
) -> None:
    anna = school.grades["s1"]
    for day, value in ((4, 5), (13, 3), (22, 4)):
        grade(anna, value=str(value), numeric=float(value), date=dt.date(2026, 5, day))
    _link_both(parent)
    page = parent.get(
        f"/child/{_child_id(fake_app, 'Child1')}?section=grades&start=2026-05-01&end=2026-05-29"
    ).text
    svg = page[page.index("<svg") : page.index("</svg>")]

    def texts(kind: str) -> list[str]:
        return re.findall(rf'<text class="[^"]*\b{kind}\b[^"]*"[^>]*>([^<]*)</text>', svg)

    assert texts("mark-tick") == ["1", "2", "3", "4", "5"]
    assert texts("date-tick") == ["1 мая", "10 мая", "20 мая", "29 мая"]
    assert texts("point-label") == ["5", "3", "4"]
    assert texts("average-label") == ["средний 4"]
    assert "<title" in svg and "4 мая: 5; 13 мая: 3; 22 мая: 4." in svg  # the text alternative
