"""API calls on a mocked wire: headers, parameters, refresh, settings and the error table."""

from __future__ import annotations

import datetime as dt
import threading
import typing as t
from importlib.metadata import entry_points
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import pytest
import requests
import responses
from responses import matchers

from connectors.base import AuthorizesInBrowser
from connectors.base import BackendSession
from connectors.base import ConfirmsSecondFactor
from connectors.base import Connector
from connectors.base import RefreshesSession
from connectors.errors import AccessDenied
from connectors.errors import BackendUnavailable
from connectors.errors import ConnectorError
from connectors.errors import InvalidCredentials
from connectors.errors import RateLimited
from connectors.errors import SessionExpired
from connectors.errors import UnexpectedResponse
from connectors.mesh import MeshConnector
from connectors.mesh.client import token_expiry
from connectors.registry import ENTRY_POINT_GROUP
from connectors.schema import Period
from tests.connectors.helpers import barrier_reply
from tests.connectors.mesh.helpers import SCHOOL
from tests.connectors.mesh.helpers import as_calendar
from tests.connectors.mesh.helpers import fixture
from tests.connectors.mesh.helpers import make_jwt

PERSON = "c1d2e3f4-1111-4a2b-9c3d-000000000001"
SESSION = BackendSession(
    connector="mesh",
    data={
        "token": "t-1",
        "refresh_token": "r-1",
        "device": "dev-1",
        "profile_id": 9120455,
        "children": {"17234001": {"person_id": PERSON, "contract_id": 3300771}},
    },
)
WEEK = Period(start=dt.date(2026, 10, 12), end=dt.date(2026, 10, 18))
CALENDAR = f"{SCHOOL}/api/eventcalendar/v1/api/events"
WEB = {"Authorization": "Bearer t-1", "X-Mes-Subsystem": "familyweb", "Profile-Id": "9120455"}


def no_cookies(request: requests.PreparedRequest) -> tuple[bool, str]:
    """Match an API call that carries the token only as Bearer (note §1.5)."""
    return "Cookie" not in request.headers and "Auth-Token" not in request.headers, "one token"


def asks_marks(request: requests.PreparedRequest) -> tuple[bool, str]:
    """Match a calendar query that expands the lessons' marks."""
    query = parse_qs(urlsplit(request.url or "").query)
    return "marks" in query.get("expand", [""])[0].split(","), "expand=marks"


def test_marks_come_from_the_calendar_a_month_at_a_time_with_bearer_and_parent_profile(
    wire: responses.RequestsMock, connector: MeshConnector
) -> None:
    """A period longer than a month is sent as exact ranges of at most 31 days (§4.4, §4.5),
    each asking the lessons with their marks (§2.4 a)."""
    for start, end, body in (
        ("2026-09-13", "2026-10-13", as_calendar(fixture("marks"))),
        ("2026-10-14", "2026-10-15", {"response": []}),
    ):
        query = {"person_ids": PERSON, "begin_date": start, "end_date": end}
        wire.get(
            CALENDAR,
            json=body,
            match=[
                matchers.query_param_matcher(query, strict_match=False),
                asks_marks,
                matchers.header_matcher(WEB | {"X-Mes-Role": "parent"}),
                no_cookies,
            ],
        )
    period = Period(start=dt.date(2026, 9, 13), end=dt.date(2026, 10, 15))
    grades = connector.fetch_grades(SESSION, "17234001", period)
    assert [g.id for g in grades] == ["2711304411", "2711309925", "2711312070"]
    assert all(call.request.req_kwargs["timeout"] == (2.5, 7.0) for call in wire.calls)


def test_schedule_asks_the_calendar_for_the_childs_person_id_as_parent(
    wire: responses.RequestsMock, connector: MeshConnector
) -> None:
    """The event calendar takes the contingent GUID and X-Mes-Role: parent (note §2.4 a).

    One query asks the lessons with their homework and absences, and the school's events,
    so that the timetable, the attendance and the events of one read share it.
    """
    query = {"person_ids": PERSON, "begin_date": "2026-10-12", "end_date": "2026-10-18"}
    query["expand"] = "marks,homework,absence_reason_id,nonattendance_reason_id,health_status"
    query["source_types"] = "PLAN,EVENTS,AFISHA,ORGANIZER,OLYMPIAD,PROF"
    headers = WEB | {"X-Mes-Role": "parent"}
    wire.get(
        CALENDAR,
        json=fixture("calendar_week"),
        match=[matchers.query_param_matcher(query), matchers.header_matcher(headers)],
    )
    lessons = connector.fetch_schedule(SESSION, "17234001", WEEK)
    assert [x.status.value for x in lessons] == ["planned", "replaced", "planned", "cancelled"]


def test_attendance_joins_the_calendar_and_the_mobile_notices(
    wire: responses.RequestsMock, connector: MeshConnector
) -> None:
    """Notices live under family/mobile with familymp and client-type (note §2.5)."""
    wire.get(CALENDAR, json=fixture("calendar_absences"))
    mobile = {"X-Mes-Subsystem": "familymp", "Client-Type": "diary-mobile", "Profile-Id": "9120455"}
    wire.get(
        f"{SCHOOL}/api/family/mobile/v1/attendance/",
        json=fixture("attendance_notices"),
        match=[
            matchers.query_param_matcher({"student_id": "17234001"}),
            matchers.header_matcher(mobile),
        ],
    )
    found = connector.fetch_attendance(SESSION, "17234001", WEEK)
    assert {a.kind.value for a in found} == {"unexcused", "ill", "excused"}


def test_attendance_sends_the_months_of_the_calendar_and_the_notices_at_once(
    wire: responses.RequestsMock, connector: MeshConnector
) -> None:
    """Nothing waits for anything: a barrier of three trips only if all three overlap."""
    barrier = threading.Barrier(3, timeout=30)
    for start, end, body in (
        ("2026-09-18", "2026-10-18", fixture("calendar_absences")),
        ("2026-10-19", "2026-10-19", {"response": []}),
    ):
        query = {"person_ids": PERSON, "begin_date": start, "end_date": end}
        wire.add_callback(
            responses.GET,
            CALENDAR,
            callback=barrier_reply(barrier, body),
            match=[matchers.query_param_matcher(query, strict_match=False)],
        )
    notices = f"{SCHOOL}/api/family/mobile/v1/attendance/"
    wire.add_callback(
        responses.GET, notices, callback=barrier_reply(barrier, fixture("attendance_notices"))
    )
    month_and_a_day = Period(start=dt.date(2026, 9, 18), end=dt.date(2026, 10, 19))
    found = connector.fetch_attendance(SESSION, "17234001", month_and_a_day)
    assert {a.kind.value for a in found} == {"unexcused", "ill", "excused"}


def test_rating_and_events_use_the_person_id(
    wire: responses.RequestsMock, connector: MeshConnector
) -> None:
    """The rating takes ``personId`` and a date no later than the period's end."""
    wire.get(
        f"{SCHOOL}/api/ej/rating/v1/rank/class",
        json=fixture("rating_class"),
        match=[matchers.query_param_matcher({"personId": PERSON, "date": "2026-10-18"})],
    )
    query = {"person_ids": PERSON, "begin_date": "2026-10-12", "end_date": "2026-10-18"}
    query["source_types"] = "PLAN,EVENTS,AFISHA,ORGANIZER,OLYMPIAD,PROF"
    query["expand"] = "marks,homework,absence_reason_id,nonattendance_reason_id,health_status"
    wire.get(
        CALENDAR,
        json=fixture("calendar_week"),
        match=[matchers.query_param_matcher(query)],
    )
    assert connector.fetch_rating(SESSION, "17234001", WEEK)[0].place == 2
    assert [e.kind.value for e in connector.fetch_events(SESSION, "17234001", WEEK)][0] == (
        "parent_meeting"
    )


def test_an_unknown_student_is_looked_up_in_the_profile_then_denied(
    wire: responses.RequestsMock, connector: MeshConnector
) -> None:
    """A child the session does not know is checked against a fresh family profile."""
    wire.get(f"{SCHOOL}/api/family/web/v1/profile", json=fixture("profile"))
    with pytest.raises(AccessDenied):
        connector.fetch_schedule(SESSION, "99999999", WEEK)


def test_refresh_rotates_the_pair_and_keeps_the_device_and_ids(
    wire: responses.RequestsMock, connector: MeshConnector
) -> None:
    """``POST /v3/token/refresh`` with the refresh cookie and Origin (note §1.8)."""
    fresh = make_jwt(dt.datetime(2026, 10, 15, 12, 0, tzinfo=dt.UTC))
    wire.post(
        f"{SCHOOL}/v3/token/refresh",
        json={"access_token": fresh, "refresh_token": "r-2"},
        match=[
            matchers.header_matcher({"Cookie": "aupd_refresh_token=r-1", "Origin": SCHOOL}),
        ],
    )
    renewed = connector.refresh(SESSION)
    assert (renewed.data["token"], renewed.data["refresh_token"]) == (fresh, "r-2")
    assert renewed.data["device"] == "dev-1"
    assert renewed.data["children"] == SESSION.data["children"]
    assert renewed.expires_at == dt.datetime(2026, 10, 15, 11, 30, tzinfo=dt.UTC)


def test_a_refused_refresh_means_log_in_again(
    wire: responses.RequestsMock, connector: MeshConnector
) -> None:
    """A spent or expired refresh token is refused for good (RefreshesSession contract)."""
    wire.post(f"{SCHOOL}/v3/token/refresh", status=401, json={"type": "UNAUTHORIZED"})
    with pytest.raises(InvalidCredentials):
        connector.refresh(SESSION)


MAINTENANCE = "<!DOCTYPE html><html><title>Технические работы</title></html>"


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        ({"status": 401, "json": {"type": "UNAUTHORIZED", "description": "…"}}, SessionExpired),
        ({"status": 403, "json": {"type": "ACCESS_DENIED", "description": "…"}}, AccessDenied),
        (
            {"status": 400, "json": {"description": "Предыдущая сессия работы в ЭЖД завершена"}},
            SessionExpired,
        ),
        ({"status": 429, "json": {"message": "Too Many Requests"}}, RateLimited),
        ({"status": 500, "json": {"message": "An error has occurred."}}, BackendUnavailable),
        ({"status": 503, "body": MAINTENANCE, "content_type": "text/html"}, BackendUnavailable),
        ({"status": 200, "body": MAINTENANCE, "content_type": "text/html"}, BackendUnavailable),
        ({"status": 403, "body": MAINTENANCE, "content_type": "text/html"}, BackendUnavailable),
        (
            {
                "status": 200,
                "body": '{"message": "An error has occ',
                "content_type": "application/json",
            },
            UnexpectedResponse,
        ),
        ({"status": 200, "json": {"items": []}}, UnexpectedResponse),
        ({"status": 200, "json": {"response": [{"id": 1}]}}, UnexpectedResponse),
        ({"status": 404, "json": {"type": "NOT_FOUND"}}, UnexpectedResponse),
        ({"body": requests.ConnectTimeout("connect timed out")}, BackendUnavailable),
        ({"body": requests.ReadTimeout("read timed out")}, BackendUnavailable),
        ({"body": requests.ConnectionError("refused")}, BackendUnavailable),
    ],
)
def test_data_errors_map_to_the_taxonomy(
    wire: responses.RequestsMock,
    connector: MeshConnector,
    reply: dict[str, t.Any],
    error: type[ConnectorError],
) -> None:
    """The one table: statuses, HTML pages, bad JSON, missing keys and transport failures."""
    wire.get(CALENDAR, **reply)
    with pytest.raises(error) as raised:
        connector.fetch_grades(SESSION, "17234001", WEEK)
    if isinstance(reply.get("body"), Exception):
        assert raised.value.__cause__ is reply["body"]
    assert "t-1" not in str(raised.value)


@pytest.mark.parametrize(("header", "seconds"), [("30", 30.0), ("", None), ("soon", None)])
def test_rate_limit_keeps_retry_after(
    wire: responses.RequestsMock, connector: MeshConnector, header: str, seconds: float | None
) -> None:
    """Retry-After seconds travel with RateLimited; an unreadable one is None."""
    wire.get(CALENDAR, status=429, headers={"Retry-After": header} if header else {})
    with pytest.raises(RateLimited) as raised:
        connector.fetch_grades(SESSION, "17234001", WEEK)
    assert raised.value.retry_after == seconds


def test_a_session_of_another_connector_is_expired(connector: MeshConnector) -> None:
    """A foreign or empty session is not sent anywhere: log in again."""
    with pytest.raises(SessionExpired):
        connector.students(BackendSession(connector="netschool", data={"token": "x"}))


@pytest.mark.parametrize(
    ("base_url", "settings"),
    [
        ("ftp://school.mos.ru", {}),
        ("school.mos.ru", {}),
        ("https://school.mos.ru?x=1", {}),
        ("https://school.mos.ru", {"login_url": "not a url"}),
        ("https://school.mos.ru", {"connect_timeout": 0}),
        ("https://school.mos.ru", {"read_timeout": "10"}),
        ("https://school.mos.ru", {"read_timeout": True}),
        ("https://school.mos.ru", {"subsystem": "Family Web"}),
        ("https://school.mos.ru", {"mobile_subsystem": ""}),
        ("https://school.mos.ru", {"timeout": 5}),
    ],
)
def test_bad_settings_are_refused_when_registered(
    base_url: str, settings: dict[str, t.Any]
) -> None:
    """from_settings validates URLs, timeouts and subsystems with a readable ValueError."""
    with pytest.raises(ValueError, match="MESH"):
        MeshConnector.from_settings(base_url, settings)


def test_default_settings_give_the_documented_timeouts() -> None:
    """Without settings: (3.05, 10) seconds, familyweb and familymp, one host for both."""
    connector = MeshConnector.from_settings("https://school.mos.ru/", {})
    client = connector._client
    assert client.timeout == (3.05, 10.0)
    assert (client.subsystem, client.mobile_subsystem) == ("familyweb", "familymp")
    assert client.login_url == client.base_url == "https://school.mos.ru"


def test_token_expiry_reads_exp_and_tolerates_garbage() -> None:
    """The JWT payload's exp is read without a signature check (note §1.8)."""
    moment = dt.datetime(2026, 10, 14, 9, 30, tzinfo=dt.UTC)
    assert token_expiry(make_jwt(moment)) == moment
    assert token_expiry("not-a-jwt") is None


def test_the_connector_meets_the_contract_and_is_registered(connector: MeshConnector) -> None:
    """It is a Connector that confirms SMS codes and refreshes, found by its entry point."""
    assert isinstance(connector, Connector)
    assert isinstance(connector, ConfirmsSecondFactor)
    assert isinstance(connector, RefreshesSession)
    assert not isinstance(connector, AuthorizesInBrowser)
    (entry,) = entry_points(group=ENTRY_POINT_GROUP, name="mesh")
    assert entry.load() is MeshConnector
    assert {s.value for s in MeshConnector.sections} == {
        "grades",
        "homework",
        "schedule",
        "attendance",
        "events",
        "rating",
    }
