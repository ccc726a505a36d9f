"""Exports: the printable summary, the CSV of marks and the secret calendar feed."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import typing as t
from urllib.parse import unquote
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from icalendar import Calendar
from sqlalchemy import select
from sqlalchemy import update

from connectors.schema import Event
from connectors.schema import EventKind
from connectors.schema import Homework
from connectors.schema import Lesson
from connectors.schema import LessonStatus
from connectors.schema import Section
from connectors.schema import Student
from gateway.extensions import db
from gateway.models import CalendarFeed
from gateway.models import ChildLink
from gateway.models import ConnectorInstance
from regional_mock.world import demo_today
from tests.gateway.conftest import make_parent
from tests.gateway.conftest import signed_in
from tests.gateway.demo_children import IRINA
from tests.gateway.demo_children import SYSTEMS
from tests.gateway.demo_children import link_child
from tests.gateway.fakes import FakeSchool
from tests.gateway.fakes import grade
from tests.support.idp import sign_in

TODAY = demo_today()
SAMARA = "Europe/Samara"
FEED_URL = re.compile(r'value="(https?://[^"]+/calendar/[^"]+\.ics)"')
REAL_NAMES = {"mesh": "Смирнов Артём", "dnevnik_ru": "Смирнова Полина"}
REAL_NAMES["netschool"] = "Смирнов Максим"
LONG_TASK = "Прочитать рассказ «Кавказский пленник» и ответить письменно на вопросы 1–7. " * 3


def _link_both(parent: FlaskClient) -> None:
    reply = parent.post("/children/link/test-fake", data={"login": "parent", "password": "secret"})
    assert reply.status_code == 303


def _child_id(app: Flask, display_name: str = "Child1") -> int:
    with app.app_context():
        return db.session.scalar(select(ChildLink.id).where(ChildLink.display_name == display_name))


def _csv_rows(body: bytes) -> list[list[str]]:
    assert body.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline=""), delimiter=";"))


def _issue_feed(client: FlaskClient, child: int, **form: str) -> str:
    """Create or rotate the feed; return its path (the page shows the URL only now)."""
    page = client.post(f"/child/{child}/calendar", data=form)
    assert page.status_code == 200
    assert page.headers["Cache-Control"] == "no-store"
    [url] = FEED_URL.findall(page.text)
    assert f'href="webcal://{urlsplit(url).netloc}{urlsplit(url).path}"' in page.text
    return urlsplit(url).path


def _school_week(school: FakeSchool) -> None:
    tomorrow = TODAY + dt.timedelta(days=1)
    school.records[Section.SCHEDULE]["s1"] += [
        Lesson(
            id="l1",
            date=tomorrow,
            number=1,
            subject="Математика",
            starts_at=dt.time(8, 30),
            ends_at=dt.time(9, 15),
            room="12",
            teacher="Петрова Анна Андреевна",
        ),
        Lesson(
            id="l2",
            date=tomorrow,
            number=2,
            subject="Физика",
            starts_at=dt.time(9, 25),
            status=LessonStatus.REPLACED,
            note="Вместо русского языка",
        ),
        Lesson(
            id="l3",
            date=tomorrow,
            number=3,
            subject="История",
            starts_at=dt.time(10, 20),
            ends_at=dt.time(11, 5),
            status=LessonStatus.CANCELLED,
        ),
        Lesson(id="l4", date=tomorrow, number=4, subject="Музыка"),  # no time: left out
        Lesson(
            id="l-old",
            date=TODAY + dt.timedelta(days=40),
            number=1,
            subject="Химия",
            starts_at=dt.time(8, 30),
        ),
    ]
    school.records[Section.HOMEWORK]["s1"].append(
        Homework(id="h1", subject="Литература", text=LONG_TASK, due_on=TODAY + dt.timedelta(3))
    )
    school.records[Section.EVENTS]["s1"].append(
        Event(
            id="e1",
            kind=EventKind.PARENT_MEETING,
            title="Родительское собрание 3А",
            starts_at=dt.datetime.combine(TODAY + dt.timedelta(days=5), dt.time(18, 0)),
            place="Актовый зал",
        )
    )


@pytest.fixture
def in_samara(fake_app: Flask) -> None:
    """Put the fake school system in Samara time (UTC+4)."""
    with fake_app.app_context():
        db.session.execute(update(ConnectorInstance).values(timezone=SAMARA))
        db.session.commit()


def test_the_csv_opens_in_russian_excel_with_every_column(
    parent: FlaskClient, fake_app: Flask, school: FakeSchool
) -> None:
    grade(
        school.grades["s1"],
        value="4",
        numeric=4.5,
        weight=10,
        work_type="Самостоятельная работа",
        teacher="Петрова А. А.",
        comment='Хорошо, но «;» и "кавычки" тоже бывают',
        date=TODAY - dt.timedelta(days=2),
    )
    grade(school.grades["s1"], subject="Физкультура", value="зч", numeric=None)
    _link_both(parent)
    child = _child_id(fake_app)
    start, end = TODAY - dt.timedelta(days=10), TODAY
    reply = parent.get(f"/child/{child}/grades.csv?start={start}&end={end}")
    assert reply.status_code == 200
    assert reply.headers["Content-Type"] == "text/csv; charset=utf-8"
    disposition = reply.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    dates = f"{start.isoformat()}_{end.isoformat()}"
    [fallback, wanted] = re.findall(r'filename="([^"]+)"|filename\*=(\S+)', disposition)
    assert fallback == (f"grades_Child1_Ivanova_Anna_{dates}.csv", "")
    charset, _, encoded = wanted[1].partition("''")
    assert charset == "UTF-8" and unquote(encoded) == f"Оценки_Child1_Иванова_Анна_{dates}.csv"
    assert re.fullmatch(r"[A-Za-z0-9%._~-]+", encoded)  # RFC 5987 attr-chars only
    rows = _csv_rows(reply.data)
    assert rows[0] == [
        "Дата",
        "Предмет",
        "Оценка",
        "Числовое значение",
        "Шкала",
        "Вес",
        "Вид работы",
        "Учитель",
        "Комментарий",
    ]
    assert rows[1] == [
        (TODAY - dt.timedelta(days=2)).strftime("%d.%m.%Y"),
        "Математика",
        "4",
        "4,5",
        "пятибалльная",
        "10",
        "Самостоятельная работа",
        "Петрова А. А.",
        'Хорошо, но «;» и "кавычки" тоже бывают',
    ]
    assert rows[2][1:5] == ["Физкультура", "зч", "", "пятибалльная"]
    assert reply.data.count(b"\r\n") == 3


@pytest.mark.parametrize("payload", ['=HYPERLINK("http://evil")', "+7(900)", "-2+3", "@SUM(A1)"])
def test_the_csv_keeps_formulas_as_text(
    parent: FlaskClient, fake_app: Flask, school: FakeSchool, payload: str
) -> None:
    grade(school.grades["s1"], comment=payload, work_type=payload, teacher="Обычный Учитель")
    _link_both(parent)
    rows = _csv_rows(parent.get(f"/child/{_child_id(fake_app)}/grades.csv").data)
    assert rows[1][6] == rows[1][8] == "'" + payload
    assert rows[1][7] == "Обычный Учитель"


def test_the_print_page_summarises_marks_by_subject_with_weights_and_averages(
    parent: FlaskClient, fake_app: Flask, school: FakeSchool
) -> None:
    anna = school.grades["s1"]
    grade(anna, value="5", numeric=5.0, weight=10)
    grade(anna, value="3", numeric=3.0, weight=40)
    grade(anna, subject="Русский язык", value="4", numeric=4.0, weight=50)
    grade(anna, subject="Физкультура", value="зч", numeric=None)
    _link_both(parent)
    page = parent.get(f"/child/{_child_id(fake_app)}/grades/print")
    assert page.status_code == 200
    text = page.text
    assert "Иванова Анна" in text and "класс 3А" in text and "Тестовая область" in text
    assert text.count('class="summary-row"') == 3
    assert "5<sub>(10)</sub>" in text and "3<sub>(40)</sub>" in text and "зч" in text
    assert "3,4" in text  # Математика: (5*10 + 3*40) / 50
    assert "<strong>3,7</strong>" in text  # overall: (50 + 120 + 200) / 100
    assert 'media="print"' in text and "print.css" in text


def test_the_child_page_links_to_the_exports(parent: FlaskClient, fake_app: Flask) -> None:
    _link_both(parent)
    child = _child_id(fake_app)
    text = parent.get(f"/child/{child}").text
    assert f"/child/{child}/grades/print?" in text and f"/child/{child}/grades.csv?" in text
    assert f"/child/{child}/calendar" in text
    assert f'href="/child/{child}/proof"' in text


def test_the_feed_is_a_valid_rfc5545_calendar_of_the_coming_weeks(
    parent: FlaskClient, fake_app: Flask, school: FakeSchool, in_samara: None
) -> None:
    _school_week(school)
    _link_both(parent)
    path = _issue_feed(parent, _child_id(fake_app))
    reply = fake_app.test_client().get(path)  # no sign-in: the token is the credential
    assert reply.status_code == 200
    assert reply.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert reply.headers["Cache-Control"] == "private, max-age=300"
    raw = reply.data
    assert raw.endswith(b"\r\n") and b"\n" not in raw.replace(b"\r\n", b"")
    assert all(len(line) <= 75 for line in raw.split(b"\r\n"))
    assert b"\r\n " in raw  # the long homework was folded, not cut
    calendar = Calendar.from_ical(raw)
    assert str(calendar["VERSION"]) == "2.0" and str(calendar["PRODID"])
    assert str(calendar["CALSCALE"]) == "GREGORIAN" and str(calendar["METHOD"]) == "PUBLISH"
    assert str(calendar["X-WR-CALNAME"]) == "Дневник: Child1 — Иванова Анна"
    assert str(calendar["X-WR-TIMEZONE"]) == SAMARA
    [zone] = calendar.walk("VTIMEZONE")
    assert str(zone["TZID"]) == SAMARA
    events = {str(e["UID"]): e for e in calendar.walk("VEVENT")}
    for event in events.values():
        assert {"DTSTAMP", "DTSTART", "SUMMARY"} <= set(event)
        assert event["UID"].endswith("@diary-gateway")
    assert sorted(events) == sorted(
        f"{uid}-{_child_id(fake_app)}@diary-gateway"
        for uid in ("schedule-l1", "schedule-l2", "schedule-l3", "homework-h1", "events-e1")
    )
    _check_events(list(events.values()))


def _check_events(events: list[t.Any]) -> None:
    # Every title names the child, as every page does: siblings' calendars merge in one view.
    child = " · Child1 — Иванова Анна"
    assert all(str(e["SUMMARY"]).endswith(child) for e in events)
    by_summary = {str(e["SUMMARY"]).removesuffix(child): e for e in events}
    maths = by_summary["Математика"]
    assert maths["DTSTART"].params["TZID"] == SAMARA
    start = maths["DTSTART"].dt
    assert (start.time(), str(start.tzinfo)) == (dt.time(8, 30), SAMARA)
    assert start.utcoffset() == dt.timedelta(hours=4)
    assert maths["DTEND"].dt.time() == dt.time(9, 15)
    assert str(maths["LOCATION"]) == "каб. 12" and str(maths["STATUS"]) == "CONFIRMED"
    replaced = by_summary["Замена: Физика"]
    assert str(replaced["STATUS"]) == "CONFIRMED"
    assert replaced["DTEND"].dt - replaced["DTSTART"].dt == dt.timedelta(minutes=45)
    assert str(by_summary["Отменён: История"]["STATUS"]) == "CANCELLED"
    homework = by_summary["ДЗ: Литература"]
    assert homework["DTSTART"].dt == TODAY + dt.timedelta(days=3)  # a date: all day
    assert homework["DTEND"].dt == TODAY + dt.timedelta(days=4)
    assert str(homework["DESCRIPTION"]) == LONG_TASK
    meeting = by_summary["Родительское собрание 3А"]
    assert meeting["DTSTART"].params["TZID"] == SAMARA
    assert meeting["DTSTART"].dt.time() == dt.time(18, 0)
    assert str(meeting["LOCATION"]) == "Актовый зал"


def test_the_feed_names_the_child_but_no_teacher_and_no_patronymic(
    parent: FlaskClient, fake_app: Flask, school: FakeSchool
) -> None:
    school.accounts["parent"][1][0] = Student(id="s1", full_name="Иванова Анна Сергеевна")
    _school_week(school)
    _link_both(parent)
    raw = fake_app.test_client().get(_issue_feed(parent, _child_id(fake_app))).data
    body = raw.replace(b"\r\n ", b"").decode()  # unfolded (RFC 5545 §3.1)
    assert "Иванова Анна" in body
    assert "Сергеевна" not in body and "Петрова" not in body


def test_the_feed_uids_are_stable_between_polls(
    parent: FlaskClient, fake_app: Flask, school: FakeSchool
) -> None:
    _school_week(school)
    _link_both(parent)
    path = _issue_feed(parent, _child_id(fake_app))
    polls = [Calendar.from_ical(fake_app.test_client().get(path).data) for _ in range(2)]
    uids = [sorted(str(e["UID"]) for e in c.walk("VEVENT")) for c in polls]
    assert uids[0] == uids[1] and len(uids[0]) == 5


def test_rotating_the_link_stops_the_old_url_at_once(
    parent: FlaskClient, fake_app: Flask, school: FakeSchool
) -> None:
    _link_both(parent)
    child = _child_id(fake_app)
    assert "Создать ссылку" in parent.get(f"/child/{child}/calendar").text
    old = _issue_feed(parent, child)
    page = parent.get(f"/child/{child}/calendar").text
    assert "Сменить ссылку" in page and old not in page  # only a digest is kept
    new = _issue_feed(parent, child)
    anonymous = fake_app.test_client()
    assert anonymous.get(old).status_code == 404
    assert anonymous.get(new).status_code == 200
    with fake_app.app_context():
        [feed] = db.session.scalars(select(CalendarFeed)).all()
        assert feed.rotated_at is not None
        assert old.split("/")[-1].removesuffix(".ics") not in feed.token_hash


@pytest.mark.parametrize("token", ["nope", "A" * 43, "A" * 42 + "!", "../../etc/passwd"])
def test_an_unknown_token_is_not_found(fake_app: Flask, token: str) -> None:
    assert fake_app.test_client().get(f"/calendar/{token}.ics").status_code == 404


def test_unlinking_the_child_kills_the_feed(
    parent: FlaskClient, fake_app: Flask, school: FakeSchool
) -> None:
    _link_both(parent)
    child = _child_id(fake_app)
    path = _issue_feed(parent, child)
    assert fake_app.test_client().get(path).status_code == 200
    assert parent.post(f"/children/{child}/unlink").status_code == 303
    assert fake_app.test_client().get(path).status_code == 404
    with fake_app.app_context():
        assert db.session.scalars(select(CalendarFeed)).all() == []


def test_a_feed_with_nothing_to_show_asks_the_calendar_to_retry(
    parent: FlaskClient, fake_app: Flask, school: FakeSchool
) -> None:
    _link_both(parent)
    path = _issue_feed(parent, _child_id(fake_app))
    school.down = True
    reply = fake_app.test_client().get(path)
    assert reply.status_code == 503
    assert int(reply.headers["Retry-After"]) >= 290  # the limiter re-renders it as a delta


@pytest.mark.parametrize(
    ("method", "page"),
    [("get", "grades.csv"), ("get", "grades/print"), ("get", "calendar"), ("post", "calendar")],
)
def test_another_parent_gets_not_found(
    parent: FlaskClient, fake_app: Flask, school: FakeSchool, method: str, page: str
) -> None:
    grade(school.grades["s1"], comment="секретный комментарий")
    _link_both(parent)
    child = _child_id(fake_app)
    stranger = signed_in(fake_app, make_parent(fake_app, subject="parent-2", name="Петров Олег"))
    reply = getattr(stranger, method)(f"/child/{child}/{page}")
    assert reply.status_code == 404
    assert "секретный" not in reply.text and "Иванова Анна" not in reply.text
    assert school.calls["grades"] == 0
    with fake_app.app_context():
        assert db.session.scalars(select(CalendarFeed)).all() == []


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html)
    assert match, "the form carries no CSRF token"
    return match.group(1)


def test_a_real_childs_feed_parses(stack_app: Flask) -> None:
    client = stack_app.test_client()
    sign_in(client, "+79000000001", "parent-demo-1", consent=False)
    consent = client.get("/consent").text
    assert (
        client.post("/consent", data={"accept": "y", "csrf_token": _csrf(consent)}).status_code
        == 303
    )
    form = client.get("/children/link/samara-netschool").text
    linked = client.post(
        "/children/link/samara-netschool",
        data={
            "csrf_token": _csrf(form),
            "school": "Лицей № 3",
            "login": "СмирноваИС",
            "password": "Пароль-2026",
        },
    )
    assert linked.status_code == 303
    with stack_app.app_context():
        [maxim] = db.session.scalars(select(ChildLink)).all()
        zone = maxim.instance.timezone
    page = client.get(f"/child/{maxim.id}/calendar").text
    assert client.post(f"/child/{maxim.id}/calendar", data={}).status_code == 400  # no CSRF
    path = _issue_feed(client, maxim.id, csrf_token=_csrf(page))
    reply = stack_app.test_client().get(path)
    assert reply.status_code == 200, reply.text
    calendar = Calendar.from_ical(reply.data)
    assert str(calendar["X-WR-TIMEZONE"]) == zone == SAMARA
    lessons = [e for e in calendar.walk("VEVENT") if str(e["UID"]).startswith("schedule-")]
    assert lessons, "the demo school week has lessons"
    assert all(e["DTSTART"].params["TZID"] == zone for e in lessons)


@pytest.mark.parametrize("system", SYSTEMS)
def test_a_real_childs_feed_covers_the_three_weeks_the_page_promises(
    make_stack_app: t.Callable[..., Flask], system: str
) -> None:
    app = make_stack_app(WTF_CSRF_ENABLED=False)
    client = app.test_client()
    sign_in(client, *IRINA)
    child = link_child(app, client, system)
    page = client.get(f"/child/{child}/calendar").text
    assert "за прошедшую неделю и на три недели вперёд" in page
    assert "любой, у кого он есть, видит расписание" in page and "смените его" in page
    calendar = Calendar.from_ical(app.test_client().get(_issue_feed(client, child)).data)
    assert str(calendar["X-WR-CALNAME"]) == f"Дневник: Child1 — {REAL_NAMES[system]}"
    days = {
        kind: sorted(
            _day(e["DTSTART"].dt) for e in calendar.walk("VEVENT") if e["UID"].startswith(kind)
        )
        for kind in ("schedule-", "homework-")
    }
    # The feed's window is the school's local day, which may be tomorrow already in UTC terms.
    with app.app_context():
        zone = ZoneInfo(db.session.get(ChildLink, child).instance.timezone)  # type: ignore[union-attr]
    today = dt.datetime.now(zone).date()
    for kind, found in days.items():
        assert found[0] >= today - dt.timedelta(days=7)
        assert found[-1] <= today + dt.timedelta(days=21)
        for week in range(3):
            start = today + dt.timedelta(days=7 * week + 1)
            assert any(start <= d < start + dt.timedelta(days=7) for d in found), (kind, week + 1)


def _day(moment: dt.date | dt.datetime) -> dt.date:
    return moment.date() if isinstance(moment, dt.datetime) else moment
