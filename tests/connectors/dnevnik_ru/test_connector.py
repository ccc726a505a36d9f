"""The connector over canned replies: settings, sessions and how many requests each call makes."""

from __future__ import annotations

import datetime as dt
import functools
import threading
import typing as t
from collections.abc import Iterator

import pytest
import requests
import responses
from responses import matchers

from connectors.base import AuthorizesInBrowser
from connectors.base import BackendSession
from connectors.base import Connector
from connectors.base import Credentials
from connectors.base import RefreshesSession
from connectors.concurrency import gather
from connectors.dnevnik_ru import DnevnikRuConnector
from connectors.errors import AccessDenied
from connectors.errors import BackendUnavailable
from connectors.errors import InvalidCredentials
from connectors.errors import SessionExpired
from connectors.errors import UnexpectedResponse
from connectors.registry import installed_connectors
from connectors.reuse import Reads
from connectors.reuse import sharing
from connectors.schema import Period
from tests.connectors.dnevnik_ru.helpers import API
from tests.connectors.dnevnik_ru.helpers import BASE
from tests.connectors.dnevnik_ru.helpers import LOGIN
from tests.connectors.dnevnik_ru.helpers import REDIRECT
from tests.connectors.dnevnik_ru.helpers import SETTINGS
from tests.connectors.dnevnik_ru.helpers import load
from tests.connectors.helpers import barrier_reply

V2 = f"{API}/v2.0"
PERSON = "1000011234577"
SCHOOL = "1000003456789"
GROUP = "1854320000000000101"
SUBGROUP = "1854320000000000117"
WEEK = Period(start=dt.date(2025, 3, 10), end=dt.date(2025, 3, 16))
# Longer than two schedules bundles: grades and attendance come from the marks and the log.
LONG = Period(start=dt.date(2025, 3, 1), end=dt.date(2025, 3, 16))


@pytest.fixture
def mocked() -> Iterator[responses.RequestsMock]:
    """Fail the test when a registered reply is not used or an unregistered one is asked."""
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps


@pytest.fixture
def connector() -> DnevnikRuConnector:
    """Return a connector whose API lives on its own host."""
    return DnevnikRuConnector.from_settings(
        BASE, {**SETTINGS, "api_base": API}, http=requests.Session()
    )


def session(flow: str = "password", **extra: t.Any) -> BackendSession:
    """Return a session of the first child of ``context.json``."""
    data = {
        "flow": flow,
        "access_token": "tok",
        "refresh_token": "ref",
        "user_id": "1000009876501",
        "person_id": "1000011234501",
        "children": {PERSON: {"school_id": SCHOOL, "group_ids": [GROUP]}},
        **extra,
    }
    return BackendSession(connector="dnevnik_ru", data=data)


def test_the_connector_is_registered_and_declares_its_capabilities(
    connector: DnevnikRuConnector,
) -> None:
    assert installed_connectors()["dnevnik_ru"] is DnevnikRuConnector
    assert isinstance(connector, Connector)
    assert isinstance(connector, AuthorizesInBrowser)
    assert isinstance(connector, RefreshesSession)
    assert {s.value for s in connector.sections} == {
        "grades",
        "homework",
        "schedule",
        "attendance",
    }
    assert (connector.title, connector.requires_school) == ("Дневник.ру", False)


@pytest.mark.parametrize(
    ("base_url", "settings", "needle"),
    [
        (BASE, {**SETTINGS, "mobile_secret": "x"}, "unknown settings"),
        (BASE, {"partner_client_id": "p"}, "partner_client_secret"),
        (BASE, {"mobile_client_id": "m", "mobile_client_secret": " "}, "mobile_client_secret"),
        (BASE, {}, "pair"),
        ("ftp://dnevnik.ru", SETTINGS, "base_url"),
        ("", SETTINGS, "base_url"),
        (BASE, {**SETTINGS, "api_base": "api.dnevnik.ru"}, "api_base"),
        (BASE, {**SETTINGS, "read_timeout": 0}, "read_timeout"),
        (BASE, {**SETTINGS, "connect_timeout": True}, "connect_timeout"),
        (BASE, {**SETTINGS, "backend_timezone": "Mars/Olympus"}, "backend_timezone"),
    ],
)
def test_bad_settings_fail_when_the_instance_is_registered(
    base_url: str, settings: dict[str, t.Any], needle: str
) -> None:
    with pytest.raises(ValueError, match=needle):
        DnevnikRuConnector.from_settings(base_url, settings)


def test_without_a_partner_client_there_is_no_browser_link() -> None:
    mobile_only = {k: v for k, v in SETTINGS.items() if k.startswith("mobile")}
    connector = DnevnikRuConnector.from_settings(BASE, mobile_only)
    assert connector.authorization_url(redirect_uri=REDIRECT, state="s") is None


def test_without_a_mobile_client_password_login_is_denied_without_a_request(
    mocked: responses.RequestsMock,
) -> None:
    partner_only = {k: v for k, v in SETTINGS.items() if k.startswith("partner")}
    connector = DnevnikRuConnector.from_settings(BASE, partner_only)
    with pytest.raises(AccessDenied, match="password sign-in is not enabled"):
        connector.login(Credentials(*LOGIN))


def test_authorization_url_uses_the_login_host_not_the_api_host(
    connector: DnevnikRuConnector,
) -> None:
    url = connector.authorization_url(redirect_uri=REDIRECT, state="s")
    assert url is not None and url.startswith(f"{BASE}/oauth2?response_type=code&")


def test_login_keeps_the_ids_every_fetch_needs_with_each_childs_subgroups(
    mocked: responses.RequestsMock, connector: DnevnikRuConnector
) -> None:
    """The context lists a child's class only; its edu-groups add the subgroups (note §6),
    whose bundles carry their own lessons; an archived group is left out."""
    credentials = {"accessToken": "tok", "refreshToken": "ref", "userId": 1000009876501}
    mocked.post(
        f"{API}/mobile/v8.5/authorizations/bycredentials",
        json={"type": "Success", "description": None, "credentials": credentials},
    )
    mocked.get(
        f"{V2}/users/me/context",
        json=load("context"),
        match=[matchers.header_matcher({"Access-Token": "tok"})],
    )
    archived = {"id": 1854320000000000050, "type": "Group", "status": "Archive"}
    mocked.get(f"{V2}/persons/{PERSON}/edu-groups", json=[*load("edu_groups"), archived])
    mocked.get(f"{V2}/persons/1000011234588/edu-groups", json=[])
    got = connector.login(Credentials(*LOGIN))
    assert len(mocked.calls) == 4
    assert got.data == {
        **session().data,
        "children": {
            PERSON: {"school_id": SCHOOL, "group_ids": [GROUP, SUBGROUP]},
            "1000011234588": {"school_id": SCHOOL, "group_ids": ["1854320000000000102"]},
        },
    }
    assert got.expires_at is None
    assert BackendSession.from_json(got.to_json()) == got


def test_refresh_renews_the_token_and_keeps_the_children(
    mocked: responses.RequestsMock, connector: DnevnikRuConnector
) -> None:
    mocked.post(
        f"{V2}/authorizations",
        json={"accessToken": "tok2", "refreshToken": "ref2", "expiresIn": 60, "user": 1},
        match=[matchers.json_params_matcher({"refreshToken": "ref"}, strict_match=False)],
    )
    renewed = connector.refresh(session("partner"))
    assert (renewed.data["access_token"], renewed.data["refresh_token"]) == ("tok2", "ref2")
    assert renewed.data["children"] == session().data["children"]
    assert renewed.expires_at is not None


def test_a_refused_refresh_means_invalid_credentials(
    mocked: responses.RequestsMock, connector: DnevnikRuConnector
) -> None:
    body = {"type": "invalidToken", "description": "Invalid refresh token"}
    mocked.post(f"{API}/mobile/v8.5/authorizations/byrefreshtoken", json=body, status=401)
    with pytest.raises(InvalidCredentials):
        connector.refresh(session("password"))


def test_a_session_without_refresh_token_cannot_be_refreshed(
    mocked: responses.RequestsMock, connector: DnevnikRuConnector
) -> None:
    with pytest.raises(InvalidCredentials):
        connector.refresh(session(refresh_token=None))


def test_students_read_context_schools_and_groups(
    mocked: responses.RequestsMock, connector: DnevnikRuConnector
) -> None:
    mocked.get(f"{V2}/users/me/context", json=load("context"))
    mocked.get(f"{V2}/schools/person-schools", json=load("person_schools"))
    mocked.get(f"{V2}/persons/{PERSON}/edu-groups", json=load("edu_groups"))
    mocked.get(f"{V2}/persons/1000011234588/edu-groups", json=[])
    found = connector.students(session())
    assert [(s.id, s.class_name) for s in found] == [(PERSON, "7 «Б»"), ("1000011234588", None)]


def test_grades_use_marks_work_types_class_lessons_and_fetch_a_missing_lesson(
    mocked: responses.RequestsMock, connector: DnevnikRuConnector
) -> None:
    mocked.get(
        f"{V2}/persons/{PERSON}/schools/{SCHOOL}/marks/2025-03-01/2025-03-16", json=load("marks")
    )
    mocked.get(f"{V2}/work-types/{SCHOOL}", json=load("work_types"))
    mocked.get(f"{V2}/edu-groups/{GROUP}/lessons/2025-03-01/2025-03-16", json=load("group_lessons"))
    subgroup_lesson = {
        "id": 1854320000001000099,
        "id_str": "1854320000001000099",
        "title": "Музыка барокко",
        "date": "2025-03-14T11:00:00",
        "number": 4,
        "subject": {"id": 1, "id_str": "1", "name": "Музыка"},
    }
    mocked.get(f"{V2}/lessons/1854320000001000099", json=subgroup_lesson)
    grades = {g.id: g for g in connector.fetch_grades(session(), PERSON, LONG)}
    assert len(mocked.calls) == 4
    assert grades["1854320000003000004"].subject == "Музыка"
    assert grades["1854320000003000001"].weight == 1.0


MARKS = f"{V2}/persons/{PERSON}/schools/{SCHOOL}/marks/2025-03-01/2025-03-16"
CLASS_LESSONS = f"{V2}/edu-groups/{GROUP}/lessons/2025-03-01/2025-03-16"
DOWN = {"status": 503, "json": {"type": "apiServerError", "description": "down"}}


def test_no_marks_means_no_grades_whatever_was_asked_with_them(
    mocked: responses.RequestsMock, connector: DnevnikRuConnector
) -> None:
    """Work types and class lessons go out with the marks; unused, their failures do not count."""
    mocked.get(MARKS, json=[])
    mocked.get(f"{V2}/work-types/{SCHOOL}", **DOWN)
    mocked.get(CLASS_LESSONS, json=load("group_lessons"))
    assert connector.fetch_grades(session(), PERSON, LONG) == []
    assert len(mocked.calls) == 3


def test_grades_report_the_failure_a_sequential_read_would_have_met_first(
    mocked: responses.RequestsMock, connector: DnevnikRuConnector
) -> None:
    """The marks' failure wins over the work types'; with marks, the work types' counts."""
    mocked.get(MARKS, status=401, json={"type": "invalidToken", "description": "expired"})
    mocked.get(f"{V2}/work-types/{SCHOOL}", **DOWN)
    mocked.get(CLASS_LESSONS, **DOWN)
    with pytest.raises(SessionExpired):
        connector.fetch_grades(session(), PERSON, LONG)
    mocked.replace(responses.GET, MARKS, json=load("marks"))
    with pytest.raises(BackendUnavailable, match="work types"):
        connector.fetch_grades(session(), PERSON, LONG)


def test_grades_ask_for_marks_work_types_and_class_lessons_at_once(
    mocked: responses.RequestsMock, connector: DnevnikRuConnector
) -> None:
    """A barrier of three trips only if the three requests are in flight together."""
    barrier = threading.Barrier(3, timeout=30)
    for url, name in (
        (MARKS, "marks"),
        (f"{V2}/work-types/{SCHOOL}", "work_types"),
        (CLASS_LESSONS, "group_lessons"),
    ):
        mocked.add_callback(responses.GET, url, callback=barrier_reply(barrier, load(name)))
    lesson = {"id_str": "1854320000001000099", "date": "2025-03-14T11:00:00", "number": 4}
    mocked.get(f"{V2}/lessons/1854320000001000099", json={**lesson, "subject": {"name": "Музыка"}})
    grades = {g.id: g for g in connector.fetch_grades(session(), PERSON, LONG)}
    assert grades["1854320000003000004"].subject == "Музыка"


def test_schedule_asks_once_per_week_and_group_all_at_once(
    mocked: responses.RequestsMock, connector: DnevnikRuConnector
) -> None:
    two_weeks = Period(start=dt.date(2025, 3, 10), end=dt.date(2025, 3, 23))
    other = "1854320000000000777"
    barrier = threading.Barrier(4, timeout=30)
    for group in (GROUP, other):
        for start, end in (("2025-03-10", "2025-03-16"), ("2025-03-17", "2025-03-23")):
            body = load("schedule") if (start, group) == ("2025-03-10", GROUP) else {"days": []}
            mocked.add_callback(
                responses.GET,
                f"{V2}/persons/{PERSON}/groups/{group}/schedules",
                callback=barrier_reply(barrier, body),
                match=[matchers.query_param_matcher({"startDate": start, "endDate": end})],
            )
    two_groups = session(children={PERSON: {"school_id": SCHOOL, "group_ids": [GROUP, other]}})
    lessons = connector.fetch_schedule(two_groups, PERSON, two_weeks)
    assert [x.number for x in lessons] == [1, 2, 3]


def test_homework_is_one_request(
    mocked: responses.RequestsMock, connector: DnevnikRuConnector
) -> None:
    mocked.get(
        f"{V2}/persons/{PERSON}/school/{SCHOOL}/homeworks",
        json=load("homework"),
        match=[matchers.query_param_matcher({"startDate": "2025-03-10", "endDate": "2025-03-16"})],
    )
    assert len(connector.fetch_homework(session(), PERSON, WEEK)) == 2


def test_attendance_reads_the_log_with_the_lessons_then_the_missing_ones(
    mocked: responses.RequestsMock, connector: DnevnikRuConnector
) -> None:
    """The log and the class's lessons at once, then the missing lessons at once."""
    first = threading.Barrier(2, timeout=30)
    log, lessons = load("lesson_log"), load("group_lessons")
    mocked.add_callback(
        responses.GET,
        f"{V2}/persons/{PERSON}/lesson-log-entries",
        callback=barrier_reply(first, log),
    )
    mocked.add_callback(responses.GET, CLASS_LESSONS, callback=barrier_reply(first, lessons))
    then = threading.Barrier(2, timeout=30)
    for lesson_id, number in (("1854320000001000012", 3), ("1854320000001000013", 4)):
        lesson = {"id_str": lesson_id, "date": "2025-03-15T09:00:00", "number": number}
        body = {**lesson, "subject": {"name": "Музыка"}}
        url = f"{V2}/lessons/{lesson_id}"
        mocked.add_callback(responses.GET, url, callback=barrier_reply(then, body))
    found = connector.fetch_attendance(session(), PERSON, LONG)
    assert [(a.subject, a.lesson_number) for a in found] == [
        ("Алгебра", 1),
        ("Английский язык", 2),
        ("Музыка", 3),
        ("Музыка", 4),
    ]


def test_a_student_of_another_login_is_denied_without_a_request(
    mocked: responses.RequestsMock, connector: DnevnikRuConnector
) -> None:
    with pytest.raises(AccessDenied):
        connector.fetch_homework(session(), "1000011234599", WEEK)


def test_a_bundle_of_the_wrong_shape_is_schema_drift(
    mocked: responses.RequestsMock, connector: DnevnikRuConnector
) -> None:
    mocked.get(f"{V2}/persons/{PERSON}/school/{SCHOOL}/homeworks", json=[{"works": []}])
    with pytest.raises(UnexpectedResponse):
        connector.fetch_homework(session(), PERSON, WEEK)
    mocked.get(f"{V2}/persons/{PERSON}/school/{SCHOOL}/homeworks", json={"works": [{"id": 1}]})
    with pytest.raises(UnexpectedResponse):
        connector.fetch_homework(session(), PERSON, WEEK)


ENGLISH_HALF = "1854320000001000040"
WORK_TYPES = f"{V2}/work-types/{SCHOOL}"


def class_bundle() -> dict[str, t.Any]:
    """Return ``schedule.json`` with a «4» on the algebra lesson, the English lesson missed
    and the algebra lesson attended (the log's entries come in the bundle, note §2.8)."""
    bundle = load("schedule")
    day = bundle["days"][0]
    day["marks"] = [mark("1854320000003000005", "4", "1854320000001000005", "901")]
    day["lessonLogEntries"] = [
        log_entry("1854320000001000005", "Attend"),
        log_entry("1854320000001000006", "Absent"),
    ]
    return bundle


def subgroup_bundle() -> dict[str, t.Any]:
    """Return the English half-class's bundle: its own lesson, with a «5» for a test."""
    lesson = {"id_str": ENGLISH_HALF, "title": "Irregular verbs", "date": "2025-03-13T11:15:00"}
    lesson |= {"number": 5, "subjectId": 1854320000000000303, "hours": "11:15 - 12:00"}
    english = {"id": 1854320000000000303, "name": "Английский язык"}
    day = {"date": "2025-03-13T00:00:00", "lessons": [lesson], "subjects": [english]}
    day |= {"marks": [mark("1854320000003000006", "5", ENGLISH_HALF, "902")]}
    day |= {"lessonLogEntries": [log_entry(ENGLISH_HALF, "Late", "5 мин")]}
    return {"days": [day]}


def mark(mark_id: str, value: str, lesson: str, work_type: str) -> dict[str, t.Any]:
    """Return a Mark as a bundle carries it."""
    return {
        "id_str": mark_id,
        "type": "mark5",
        "value": value,
        "textValue": value,
        "lesson_str": lesson,
        "workType_str": f"1854320000000000{work_type}",
        "date": "2025-03-13T12:10:44.511",
    }


def log_entry(lesson: str, status: str, comment: str | None = None) -> dict[str, t.Any]:
    """Return a lesson-log entry as a bundle carries it."""
    return {"person_str": PERSON, "lesson_str": lesson, "status": status, "comment": comment}


def bundles_of_the_week(mocked: responses.RequestsMock) -> None:
    """Answer the class's and the subgroup's schedules of ``WEEK``."""
    week = {"startDate": "2025-03-10", "endDate": "2025-03-16"}
    for group, body in ((GROUP, class_bundle()), (SUBGROUP, subgroup_bundle())):
        mocked.get(
            f"{V2}/persons/{PERSON}/groups/{group}/schedules",
            json=body,
            match=[matchers.query_param_matcher(week)],
        )


WITH_SUBGROUP = {PERSON: {"school_id": SCHOOL, "group_ids": [GROUP, SUBGROUP]}}


def test_a_weeks_grades_come_from_the_class_and_subgroup_bundles_with_the_weights(
    mocked: responses.RequestsMock, connector: DnevnikRuConnector
) -> None:
    """A short period asks no marks, no class lessons and no lesson itself: the bundles carry
    the lessons their marks were given at; only the work types give the weights."""
    bundles_of_the_week(mocked)
    mocked.get(WORK_TYPES, json=load("work_types"))
    grades = connector.fetch_grades(session(children=WITH_SUBGROUP), PERSON, WEEK)
    assert len(mocked.calls) == 3
    assert [(g.id, g.date, g.subject, g.value, g.weight, g.work_type, g.topic) for g in grades] == [
        (
            "1854320000003000005",
            dt.date(2025, 3, 12),
            "Алгебра",
            "4",
            1.0,
            "Ответ на уроке",
            "Линейные уравнения",
        ),
        (
            "1854320000003000006",
            dt.date(2025, 3, 13),
            "Английский язык",
            "5",
            4.0,
            "Контрольная работа",
            "Irregular verbs",
        ),
    ]


def test_a_weeks_attendance_comes_from_the_bundles_logs(
    mocked: responses.RequestsMock, connector: DnevnikRuConnector
) -> None:
    """The bundles' log entries with their lessons; an attended lesson is no record."""
    bundles_of_the_week(mocked)
    found = connector.fetch_attendance(session(children=WITH_SUBGROUP), PERSON, WEEK)
    assert [(a.date, a.subject, a.lesson_number, a.kind.value, a.note) for a in found] == [
        (dt.date(2025, 3, 12), "Английский язык", 2, "unexcused", None),
        (dt.date(2025, 3, 13), "Английский язык", 5, "late", "5 мин"),
    ]


def test_a_week_without_marks_asks_the_work_types_but_never_needs_them(
    mocked: responses.RequestsMock, connector: DnevnikRuConnector
) -> None:
    """The work types go out with the bundles; unused, their failure does not count."""
    mocked.get(f"{V2}/persons/{PERSON}/groups/{GROUP}/schedules", json=load("schedule"))
    mocked.get(WORK_TYPES, **DOWN)
    assert connector.fetch_grades(session(), PERSON, WEEK) == []
    mocked.replace(
        responses.GET, f"{V2}/persons/{PERSON}/groups/{GROUP}/schedules", json=class_bundle()
    )
    with pytest.raises(BackendUnavailable, match="work types"):
        connector.fetch_grades(session(), PERSON, WEEK)


def test_a_fortnights_read_of_every_section_is_four_requests(
    mocked: responses.RequestsMock, connector: DnevnikRuConnector
) -> None:
    """Two weekly bundles serve the grades, the attendance and the timetable; with the work
    types and the homework, four requests for four sections."""
    fortnight = Period(start=dt.date(2025, 3, 3), end=dt.date(2025, 3, 16))
    for start, end, body in (
        ("2025-03-03", "2025-03-09", {"days": []}),
        ("2025-03-10", "2025-03-16", class_bundle()),
    ):
        mocked.get(
            f"{V2}/persons/{PERSON}/groups/{GROUP}/schedules",
            json=body,
            match=[matchers.query_param_matcher({"startDate": start, "endDate": end})],
        )
    mocked.get(WORK_TYPES, json=load("work_types"))
    mocked.get(f"{V2}/persons/{PERSON}/school/{SCHOOL}/homeworks", json=load("homework"))
    fetches = [
        connector.fetch_grades,
        connector.fetch_homework,
        connector.fetch_schedule,
        connector.fetch_attendance,
    ]
    with sharing(Reads()):
        grades, homework, lessons, absences = gather(
            [functools.partial(f, session(), PERSON, fortnight) for f in fetches]
        )
    assert len(mocked.calls) == 4
    assert [g.value for g in grades] == ["4"]
    assert [x.number for x in lessons] == [1, 2, 3] and len(homework) == 2
    assert [a.kind.value for a in absences] == ["unexcused"]
