"""The connector over canned replies: settings, sessions and how many requests each call makes."""

from __future__ import annotations

import datetime as dt
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
from connectors.dnevnik_ru import DnevnikRuConnector
from connectors.errors import AccessDenied
from connectors.errors import BackendUnavailable
from connectors.errors import InvalidCredentials
from connectors.errors import SessionExpired
from connectors.errors import UnexpectedResponse
from connectors.registry import installed_connectors
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
WEEK = Period(start=dt.date(2025, 3, 10), end=dt.date(2025, 3, 16))


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


def test_login_makes_two_requests_and_keeps_the_ids_every_fetch_needs(
    mocked: responses.RequestsMock, connector: DnevnikRuConnector
) -> None:
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
    got = connector.login(Credentials(*LOGIN))
    assert len(mocked.calls) == 2
    assert got.data == {
        **session().data,
        "children": {
            PERSON: {"school_id": SCHOOL, "group_ids": [GROUP]},
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
        f"{V2}/persons/{PERSON}/schools/{SCHOOL}/marks/2025-03-10/2025-03-16", json=load("marks")
    )
    mocked.get(f"{V2}/work-types/{SCHOOL}", json=load("work_types"))
    mocked.get(f"{V2}/edu-groups/{GROUP}/lessons/2025-03-10/2025-03-16", json=load("group_lessons"))
    subgroup_lesson = {
        "id": 1854320000001000099,
        "id_str": "1854320000001000099",
        "title": "Музыка барокко",
        "date": "2025-03-14T11:00:00",
        "number": 4,
        "subject": {"id": 1, "id_str": "1", "name": "Музыка"},
    }
    mocked.get(f"{V2}/lessons/1854320000001000099", json=subgroup_lesson)
    grades = {g.id: g for g in connector.fetch_grades(session(), PERSON, WEEK)}
    assert len(mocked.calls) == 4
    assert grades["1854320000003000004"].subject == "Музыка"
    assert grades["1854320000003000001"].weight == 1.0


MARKS = f"{V2}/persons/{PERSON}/schools/{SCHOOL}/marks/2025-03-10/2025-03-16"
CLASS_LESSONS = f"{V2}/edu-groups/{GROUP}/lessons/2025-03-10/2025-03-16"
DOWN = {"status": 503, "json": {"type": "apiServerError", "description": "down"}}


def test_no_marks_means_no_grades_whatever_was_asked_with_them(
    mocked: responses.RequestsMock, connector: DnevnikRuConnector
) -> None:
    """Work types and class lessons go out with the marks; unused, their failures do not count."""
    mocked.get(MARKS, json=[])
    mocked.get(f"{V2}/work-types/{SCHOOL}", **DOWN)
    mocked.get(CLASS_LESSONS, json=load("group_lessons"))
    assert connector.fetch_grades(session(), PERSON, WEEK) == []
    assert len(mocked.calls) == 3


def test_grades_report_the_failure_a_sequential_read_would_have_met_first(
    mocked: responses.RequestsMock, connector: DnevnikRuConnector
) -> None:
    """The marks' failure wins over the work types'; with marks, the work types' counts."""
    mocked.get(MARKS, status=401, json={"type": "invalidToken", "description": "expired"})
    mocked.get(f"{V2}/work-types/{SCHOOL}", **DOWN)
    mocked.get(CLASS_LESSONS, **DOWN)
    with pytest.raises(SessionExpired):
        connector.fetch_grades(session(), PERSON, WEEK)
    mocked.replace(responses.GET, MARKS, json=load("marks"))
    with pytest.raises(BackendUnavailable, match="work types"):
        connector.fetch_grades(session(), PERSON, WEEK)


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
    grades = {g.id: g for g in connector.fetch_grades(session(), PERSON, WEEK)}
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
    found = connector.fetch_attendance(session(), PERSON, WEEK)
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
