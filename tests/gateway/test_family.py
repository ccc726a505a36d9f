"""The family page: every child's day at a glance, fetched at once, honest when stale."""

from __future__ import annotations

import datetime as dt
import re
import threading
import typing as t

import pytest
from flask import Flask
from flask import template_rendered
from flask.testing import FlaskClient
from jinja2 import Template
from sqlalchemy import select

from connectors.schema import Attendance
from connectors.schema import AttendanceKind
from connectors.schema import Event
from connectors.schema import EventKind
from connectors.schema import Homework
from connectors.schema import Lesson
from connectors.schema import LessonStatus
from connectors.schema import Message
from connectors.schema import Section
from gateway.diary import views as diary_views
from gateway.extensions import db
from gateway.models import ChildLink
from gateway.models import ConnectorInstance
from gateway.models import RoleKind
from gateway.models import SectionSnapshot
from gateway.models import User
from gateway.services import roles
from regional_mock.world import demo_today
from tests.gateway.clock import pin_clock
from tests.gateway.conftest import signed_in
from tests.gateway.fakes import FakeSchool
from tests.gateway.fakes import grade

TODAY = demo_today()
NOW = dt.datetime.now(dt.UTC)
MEETING = Event(
    id="m1",
    kind=EventKind.PARENT_MEETING,
    title="Родительское собрание",
    starts_at=dt.datetime.combine(TODAY + dt.timedelta(days=3), dt.time(18, 0), dt.UTC),
    place="Актовый зал",
    agenda="1. Итоги четверти",
)


def _fill(school: FakeSchool) -> None:
    records = school.records
    records[Section.SCHEDULE]["s1"] += [
        Lesson(id="l1", date=TODAY, number=1, subject="Чтение", starts_at=dt.time(8, 30)),
        Lesson(id="l2", date=TODAY, number=2, subject="Музыка", status=LessonStatus.CANCELLED),
        Lesson(
            id="l3",
            date=TODAY + dt.timedelta(days=1),
            number=1,
            subject="ИЗО",
            status=LessonStatus.REPLACED,
            note="вместо Технологии",
        ),
    ]
    records[Section.HOMEWORK]["s1"].append(
        Homework(
            id="h1", subject="Чтение", text="Стих наизусть", due_on=TODAY + dt.timedelta(days=1)
        )
    )
    records[Section.ATTENDANCE]["s2"].append(
        Attendance(
            date=TODAY - dt.timedelta(days=2), kind=AttendanceKind.UNEXCUSED, subject="Физика"
        )
    )
    records[Section.EVENTS]["s1"].append(MEETING)
    records[Section.EVENTS]["s2"].append(MEETING)
    records[Section.MESSAGES]["s2"].append(
        Message(
            id="msg",
            sender="Кл. руководитель",
            subject="Экскурсия",
            body="Подпишите",
            sent_at=dt.datetime.combine(TODAY, dt.time(9), dt.UTC),
            needs_acknowledgement=True,
        )
    )
    grade(school.grades["s2"], subject="Физика", value="2", numeric=2.0)


def _link(parent: FlaskClient) -> None:
    assert (
        parent.post(
            "/children/link/test-fake", data={"login": "parent", "password": "secret"}
        ).status_code
        == 303
    )


def _card(page: str, child: str) -> str:
    start = page.index(f'data-child="{child}"')
    end = page.find('data-child="', start + 1)
    return page[start : end if end > 0 else len(page)]


def _drawn(page: str, child: str) -> str:
    return _card(page, child).split('<form class="refresh"')[0]


def test_the_family_page_shows_each_childs_day_and_week(
    parent: FlaskClient, school: FakeSchool
) -> None:
    _fill(school)
    _link(parent)
    page = parent.get("/").text
    anna, petr = _card(page, "Child1"), _card(page, "Child2")
    assert "Чтение" in anna and "отменён" in anna and "Стих наизусть" in anna
    assert "вместо Технологии" in anna
    assert "прогул" in petr and "Физика" in petr
    assert "Сообщения учителя, ждущие ответа: 1" in petr
    assert page.count("Родительское собрание") == 1  # shared by both, shown once
    assert "Child1 — Иванова Анна, Child2 — Иванов Пётр" in page


def test_a_family_without_children_sees_what_to_do_next(parent: FlaskClient) -> None:
    page = parent.get("/")
    assert page.status_code == 200
    assert "Пока не привязан ни один ребёнок" in page.text
    assert 'href="/children/link"' in page.text


def _set_limit(app: Flask, limit: int) -> None:
    with app.app_context():
        for instance in db.session.scalars(select(ConnectorInstance)):
            instance.concurrency_limit = limit
        db.session.commit()


def test_every_child_and_section_is_fetched_at_the_same_time(
    parent: FlaskClient, fake_app: Flask, school: FakeSchool
) -> None:
    _link(parent)
    _set_limit(fake_app, 12)
    # Two children x six sections: each fetch waits until all twelve have started.
    school.barrier = threading.Barrier(12)
    page = parent.get("/")
    assert page.status_code == 200 and "недоступна" not in page.text
    assert sum(school.calls[s.value] for s in Section if s is not Section.RATING) == 12


def test_no_backend_gets_more_concurrent_requests_than_its_limit(
    parent: FlaskClient, fake_app: Flask, school: FakeSchool
) -> None:
    _link(parent)
    _set_limit(fake_app, 3)
    school.track_concurrency = True
    assert parent.get("/").status_code == 200
    assert 1 < school.most_at_once <= 3


def test_a_backend_that_is_down_serves_the_last_good_data_marked_stale(
    parent: FlaskClient, fake_app: Flask, school: FakeSchool
) -> None:
    _fill(school)
    _link(parent)
    parent.get("/")  # a good snapshot
    with fake_app.app_context():
        for row in db.session.scalars(select(SectionSnapshot)):
            row.fetched_at = row.fetched_at.replace(tzinfo=dt.UTC) - dt.timedelta(hours=2)
        db.session.commit()
    school.down = True
    page = parent.get("/").text
    assert "Данные на" in page and "сейчас недоступна" in page
    assert "Стих наизусть" in _card(page, "Child1")  # the last good data, labelled


def test_a_section_the_backend_does_not_provide_says_so(
    parent: FlaskClient, fake_app: Flask, school: FakeSchool
) -> None:
    _link(parent)
    with fake_app.app_context():
        child = db.session.scalar(select(ChildLink.id))
    page = parent.get(f"/child/{child}?section=rating")
    assert "не передаёт этот раздел" in page.text


def test_the_child_page_shows_each_section(
    parent: FlaskClient, fake_app: Flask, school: FakeSchool
) -> None:
    _fill(school)
    _link(parent)
    with fake_app.app_context():
        anna, petr = db.session.scalars(select(ChildLink.id).order_by(ChildLink.position)).all()
    week = f"start={TODAY - dt.timedelta(days=7)}&end={TODAY + dt.timedelta(days=7)}"
    schedule = parent.get(f"/child/{anna}?section=schedule&{week}").text
    assert "замена" in schedule and "отменён" in schedule
    assert "Стих наизусть" in parent.get(f"/child/{anna}?section=homework&{week}").text
    attendance = parent.get(f"/child/{petr}?section=attendance&{week}").text
    assert "прогулы): 1" in attendance
    assert "Итоги четверти" in parent.get(f"/child/{anna}?section=events&{week}").text
    assert "просят подтвердить" in parent.get(f"/child/{petr}?section=messages&{week}").text


def _cards_rendered(app: Flask, load: t.Callable[[], str]) -> tuple[str, list[str]]:
    """Load a page; return it and the children whose card was rendered for it."""
    rendered: list[str] = []

    def record(sender: Flask, template: Template, context: dict[str, t.Any], **_: t.Any) -> None:
        if template.name == "diary/_family_card.html":
            rendered.append(context["card"].link.display_name)

    with template_rendered.connected_to(record, app):
        page = load()
    return page, rendered


def _age_snapshots(app: Flask, hours: int) -> None:
    with app.app_context():
        for row in db.session.scalars(select(SectionSnapshot)):
            row.fetched_at = row.fetched_at.replace(tzinfo=dt.UTC) - dt.timedelta(hours=hours)
        db.session.commit()


def test_a_card_is_drawn_again_only_when_what_it_shows_has_changed(
    parent: FlaskClient, fake_app: Flask, school: FakeSchool
) -> None:
    _fill(school)
    _link(parent)
    first, drawn = _cards_rendered(fake_app, lambda: parent.get("/").text)
    assert drawn == ["Child1", "Child2"]
    again, drawn = _cards_rendered(fake_app, lambda: parent.get("/").text)
    assert drawn == []  # nothing changed: both cards reused as they were
    # The same card markup; the refresh form after it carries a fresh CSRF token each time.
    assert all(_drawn(again, child) == _drawn(first, child) for child in ("Child1", "Child2"))

    grade(school.grades["s1"], subject="Английский", value="4", numeric=4.0)
    _age_snapshots(fake_app, hours=2)  # past fresh: the next page fetches again
    page, drawn = _cards_rendered(fake_app, lambda: parent.get("/").text)
    assert drawn == ["Child1", "Child2"]
    assert "Английский" in _card(page, "Child1") and "Английский" not in _card(first, "Child1")

    with fake_app.app_context():
        anna = db.session.scalar(select(ChildLink.id).where(ChildLink.display_name == "Child1"))
    parent.post(f"/children/{anna}/rename", data={"name": "Аня"})
    page, drawn = _cards_rendered(fake_app, lambda: parent.get("/").text)
    assert drawn == ["Аня"] and "Английский" in _card(page, "Аня")

    parent.get("/lang/en")
    page, drawn = _cards_rendered(fake_app, lambda: parent.get("/").text)
    assert drawn == ["Аня", "Child2"] and "New marks" in _card(page, "Аня")


def test_a_backend_going_down_relabels_a_reused_card(
    parent: FlaskClient, fake_app: Flask, school: FakeSchool
) -> None:
    _fill(school)
    _link(parent)
    parent.get("/")
    assert "недоступна" not in parent.get("/").text  # the reused cards, fresh
    _age_snapshots(fake_app, hours=2)
    school.down = True
    page = parent.get("/").text
    assert "Данные на" in _card(page, "Child1") and "Данные на" in _card(page, "Child2")


def _week_of_lessons(school: FakeSchool, monday: dt.date) -> None:
    """Give Анна lessons Monday to Friday of two weeks, and homework due on each day."""
    for offset in [*range(5), *range(7, 12)]:
        day = monday + dt.timedelta(days=offset)
        school.records[Section.SCHEDULE]["s1"] += [
            Lesson(
                id=f"a{offset}",
                date=day,
                number=1,
                subject=f"Урок-{day.isoformat()}",
                starts_at=dt.time(8, 30),
                room="12",
            ),
            Lesson(
                id=f"b{offset}",
                date=day,
                number=2,
                subject="Музыка",
                starts_at=dt.time(9, 25),
                status=LessonStatus.REPLACED,
                note="вместо ИЗО",
            ),
        ]
        school.records[Section.HOMEWORK]["s1"].append(
            Homework(id=f"h{offset}", subject="Чтение", text=f"Д/з-{day.isoformat()}", due_on=day)
        )


def _days_on_card(card: str) -> list[str]:
    return re.findall(r"<h3>([^<]+)</h3>\s*<ol", card)


@pytest.mark.parametrize(
    ("moment", "headings", "days"),
    [
        (dt.datetime(2026, 5, 20, 6, tzinfo=dt.UTC), ["Сегодня", "Завтра"], ["20", "21"]),
        (
            dt.datetime(2026, 5, 22, 6, tzinfo=dt.UTC),
            ["Сегодня", "Понедельник, 25 мая"],
            ["22", "25"],
        ),
        (
            dt.datetime(2026, 5, 23, 6, tzinfo=dt.UTC),
            ["Понедельник, 25 мая", "Вторник, 26 мая"],
            ["25", "26"],
        ),
        (dt.datetime(2026, 5, 24, 6, tzinfo=dt.UTC), ["Завтра", "Вторник, 26 мая"], ["25", "26"]),
    ],
    ids=["wednesday", "friday", "saturday", "sunday"],
)
def test_the_card_shows_the_next_school_day_with_lessons_and_homework(
    parent: FlaskClient,
    school: FakeSchool,
    monkeypatch: pytest.MonkeyPatch,
    moment: dt.datetime,
    headings: list[str],
    days: list[str],
) -> None:
    pin_clock(monkeypatch, moment)
    _week_of_lessons(school, dt.date(2026, 5, 18))
    _link(parent)
    card = _card(parent.get("/").text, "Child1")
    assert _days_on_card(card) == headings
    blocks = [b.split("</div>")[0] for b in card.split('<div class="school-day"')[1:]]
    assert len(blocks) == 2
    for day, block in zip(days, blocks, strict=True):
        assert f"Урок-2026-05-{day}" in block and f"Д/з-2026-05-{day}" in block
        assert '<span class="time">08:30</span>' in block and "каб. 12" in block
        assert "замена" in block and "вместо ИЗО" in block


def _pages_rendered(app: Flask, load: t.Callable[[], str]) -> tuple[str, int]:
    """Load a page; return it and how many times the family page template was rendered."""
    rendered: list[str] = []

    def record(sender: Flask, template: Template, context: dict[str, t.Any], **_: t.Any) -> None:
        if template.name == "diary/family.html":
            rendered.append(template.name)

    with template_rendered.connected_to(record, app):
        page = load()
    return page, len(rendered)


def test_a_family_page_is_kept_until_anything_it_shows_changes(
    parent: FlaskClient,
    fake_app: Flask,
    school: FakeSchool,
    parent_id: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # One slot for the whole test: no load below may cross into the next one.
    monkeypatch.setattr(diary_views, "PAGE_KEPT_SECONDS", 10**9)
    _fill(school)
    _link(parent)

    def load() -> tuple[str, int]:
        return _pages_rendered(fake_app, lambda: parent.get("/").text)

    parent.get("/")  # shows the linking's message, once
    first, drawn = load()
    assert drawn == 1
    assert load() == (first, 0)  # the same page, not drawn again
    other_tab = signed_in(fake_app, parent_id)  # another session of the same person
    page, drawn = _pages_rendered(fake_app, lambda: other_tab.get("/").text)
    assert drawn == 1 and 'name="csrf_token"' in page  # its own page, with its own token

    with parent.session_transaction() as cookie_session:  # a message waits for the next page
        cookie_session["_flashes"] = [("info", "Изменения сохранены")]
    page, drawn = load()
    assert drawn == 1 and "Изменения сохранены" in page
    assert load() == (first, 0)  # shown once, then the kept page again

    with fake_app.app_context():
        subject = db.session.get(User, parent_id).subject  # type: ignore[union-attr]
        roles.grant(db.session, subject, RoleKind.OPERATOR, region_code="99", now=NOW)
        db.session.commit()
    page, drawn = load()
    assert drawn == 1 and "Кабинет оператора" in page and "Кабинет оператора" not in first

    grade(school.grades["s1"], subject="Английский", value="4", numeric=4.0)
    _age_snapshots(fake_app, hours=2)  # past fresh: the page fetches, a card changes
    page, drawn = load()
    assert drawn == 1 and "Английский" in page

    parent.get("/lang/en")
    page, drawn = load()
    assert drawn == 1 and "My children" in page
