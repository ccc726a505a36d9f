"""NetSchoolConnector: settings, the session it issues, and what each fetch asks the server."""

from __future__ import annotations

import datetime as dt
import typing as t

import pytest
import requests
import responses
from responses import matchers
from responses.registries import OrderedRegistry

from connectors import errors
from connectors.base import BackendSession
from connectors.base import Connector
from connectors.base import Credentials
from connectors.base import sections_of
from connectors.netschool import NetSchoolConnector
from connectors.netschool import NetSchoolSettings
from connectors.registry import installed_connectors
from connectors.schema import AttendanceKind
from connectors.schema import Period
from connectors.schema import Section
from tests.connectors.netschool.helpers import API
from tests.connectors.netschool.helpers import AT
from tests.connectors.netschool.helpers import BASE
from tests.connectors.netschool.helpers import COOKIE
from tests.connectors.netschool.helpers import LOGIN
from tests.connectors.netschool.helpers import NOW
from tests.connectors.netschool.helpers import PASSWORD
from tests.connectors.netschool.helpers import SECRET
from tests.connectors.netschool.helpers import add_handshake
from tests.connectors.netschool.helpers import load
from tests.connectors.netschool.helpers import session
from tests.connectors.netschool.helpers import with_session

WEEK = Period(start=dt.date(2025, 10, 13), end=dt.date(2025, 10, 19))
EDGE_WEEK = Period(start=dt.date(2025, 10, 20), end=dt.date(2025, 10, 26))
STUDENT = "583101"


@pytest.fixture
def rsps() -> t.Iterator[responses.RequestsMock]:
    """Serve canned replies in registration order; every one must be used."""
    with responses.RequestsMock(
        assert_all_requests_are_fired=True, registry=OrderedRegistry
    ) as mock:
        yield mock


@pytest.fixture
def unordered() -> t.Iterator[responses.RequestsMock]:
    """Serve canned replies in any order, for calls a fetch sends at once; all must be used."""
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


def connector(**settings: t.Any) -> NetSchoolConnector:
    """Return a connector to the fixture server, clocked at ``NOW``."""
    return NetSchoolConnector(NetSchoolSettings.parse(BASE, settings), now=lambda: NOW)


def add_diary(rsps: responses.RequestsMock, name: str, period: Period) -> None:
    """Expect one ``student/diary`` call for the whole period with the session's year."""
    query = {
        "studentId": STUDENT,
        "weekStart": period.start.isoformat(),
        "weekEnd": period.end.isoformat(),
        "yearId": "417",
    }
    match = with_session(matchers.query_param_matcher(query))
    rsps.get(f"{API}/student/diary", json=load(name), match=match)


def add_meetings(rsps: responses.RequestsMock, period: Period, **kw: t.Any) -> None:
    """Expect one mobile ``classmeetings`` call with the bearer token."""
    query = {
        "studentIds": STUDENT,
        "startDate": period.start.isoformat(),
        "endDate": period.end.isoformat(),
        "lng": "ru",
        "appVersion": "2.0.3",
    }
    match = [
        matchers.query_param_matcher(query),
        matchers.header_matcher({"Authorization": "Bearer mobile-token"}),
    ]
    kw.setdefault("json", load("classmeetings"))
    rsps.get(f"{BASE}/api/mobile/classmeetings", match=match, **kw)


def add_mobile_token(rsps: responses.RequestsMock, identity: str = BASE) -> None:
    """Expect the pincode and its exchange for a bearer token."""
    rsps.get(f"{API}/mysettings/mobile/pincode", json={"userCode": "83412"}, match=with_session())
    form = {
        "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
        "device_code": "83412",
        "client_id": "parent-mobile",
        "client_secret": SECRET,
        "appVersion": "2.0.3",
    }
    token = {"access_token": "mobile-token", "refresh_token": "r", "expires_in": 5184000}
    rsps.post(
        f"{identity}/connect/token", json=token, match=[matchers.urlencoded_params_matcher(form)]
    )


def add_after_sign_in(rsps: responses.RequestsMock) -> None:
    """Expect the year and the full work-type list right after signing in."""
    rsps.get(f"{API}/years/current", json=load("years_current"), match=with_session())
    rsps.get(
        f"{API}/grade/assignment/types",
        json=load("assignment_types"),
        match=with_session(matchers.query_param_matcher({"all": "true"})),
    )


def test_the_entry_point_names_this_class() -> None:
    """pyproject registers ``netschool`` in the connectors group."""
    assert installed_connectors()["netschool"] is NetSchoolConnector
    assert isinstance(connector(), Connector)
    assert NetSchoolConnector.requires_school is True


def test_settings_default_to_explicit_timeouts_and_the_base_url_as_identity() -> None:
    """Without settings: (3.05, 10) timeouts, identity on the base URL, no school id."""
    live = NetSchoolConnector.from_settings(BASE + "/", {})

    assert live.settings.timeout == (3.05, 10.0)
    assert live.settings.identity_url == BASE
    assert live.settings.base_url == BASE
    assert live.settings.school_id is None


@pytest.mark.parametrize(
    ("base_url", "settings", "complaint"),
    [
        ("ftp://sgo.example.ru", {}, "base_url"),
        ("sgo.example.ru", {}, "base_url"),
        (BASE, {"read_timeout": "10"}, "read_timeout"),
        (BASE, {"connect_timeout": 0}, "connect_timeout"),
        (BASE, {"connect_timeout": True}, "connect_timeout"),
        (BASE, {"school_id": "1042"}, "school_id"),
        (BASE, {"school_id": -1}, "school_id"),
        (BASE, {"identity_url": "identity.ir-tech.ru"}, "identity_url"),
        (BASE, {"mobile_client_secret": ""}, "mobile_client_secret"),
        (BASE, {"app_version": 2}, "app_version"),
        (BASE, {"mobile_secret": "typo"}, "mobile_secret"),
    ],
)
def test_bad_settings_are_refused_when_the_instance_is_registered(
    base_url: str, settings: dict[str, t.Any], complaint: str
) -> None:
    """A bad setting fails at registration, naming the setting."""
    with pytest.raises(ValueError, match=complaint):
        NetSchoolConnector.from_settings(base_url, settings)


def test_without_a_mobile_client_secret_there_is_no_attendance() -> None:
    """The web diary has no attendance; the mobile API needs the operator's secret."""
    assert Section.ATTENDANCE in NetSchoolConnector.sections
    assert Section.ATTENDANCE not in sections_of(connector())
    assert sections_of(connector(mobile_client_secret=SECRET)) == NetSchoolConnector.sections


def test_fetch_attendance_without_a_mobile_client_secret_is_denied() -> None:
    """Asking anyway is refused before any request."""
    with pytest.raises(errors.AccessDenied):
        connector().fetch_attendance(session(), STUDENT, WEEK)


def test_login_with_a_configured_school_makes_five_requests(
    rsps: responses.RequestsMock,
) -> None:
    """logindata, getdata, login, years/current, types: and a session holding what reuse needs."""
    add_handshake(rsps, school_id=1042)
    add_after_sign_in(rsps)

    issued = connector(school_id=1042).login(Credentials(LOGIN, PASSWORD))

    assert len(rsps.calls) == 5
    assert issued.connector == "netschool"
    assert issued.expires_at == NOW + dt.timedelta(hours=1)
    assert issued.data["at"] == AT
    assert issued.data["cookies"] == {"NSSESSIONID": COOKIE}
    assert (issued.data["school_id"], issued.data["year_id"]) == (1042, 417)
    assert issued.data["work_types"]["26"] == "Чтение наизусть"
    assert issued.data["mobile_token"] is None
    assert issued.data["school_name"] == "МАОУ «СОШ № 17 г. Озёрска»"  # currentOrganization
    assert PASSWORD not in issued.to_json()


def test_login_by_school_name_with_mobile_makes_eight_requests(
    rsps: responses.RequestsMock,
) -> None:
    """School search first, then the handshake, then the mobile token from the identity URL."""
    rsps.get(f"{API}/schools/search", json=load("schools_search")[:1])
    add_handshake(rsps, school_id=1042)
    add_after_sign_in(rsps)
    add_mobile_token(rsps, identity="https://identity.example.ru")
    live = connector(mobile_client_secret=SECRET, identity_url="https://identity.example.ru")

    issued = live.login(Credentials(LOGIN, PASSWORD, school="СОШ № 17"))

    assert len(rsps.calls) == 8
    assert issued.data["mobile_token"] == "mobile-token"
    assert "Cookie" not in rsps.calls[-1].request.headers


def test_a_mobile_token_failure_does_not_fail_the_login(rsps: responses.RequestsMock) -> None:
    """Marks stay readable when the identity server refuses: attendance mints a token later."""
    add_handshake(rsps)
    add_after_sign_in(rsps)
    rsps.get(f"{API}/mysettings/mobile/pincode", json={"userCode": "83412"})
    rsps.post(f"{BASE}/connect/token", status=401, json={"error": "invalid_client"})

    issued = connector(school_id=1042, mobile_client_secret=SECRET).login(
        Credentials(LOGIN, PASSWORD)
    )

    assert issued.data["mobile_token"] is None


def test_wrong_password_is_invalid_credentials(rsps: responses.RequestsMock) -> None:
    """The §3.4 answer asks the parent to relink."""
    rsps.get(f"{API}/logindata", json=load("logindata"))
    rsps.post(f"{API}/auth/getdata", json=load("getdata"))
    rsps.post(f"{API}/login", status=409, json=load("login_wrong"))

    with pytest.raises(errors.InvalidCredentials):
        connector(school_id=1042).login(Credentials(LOGIN, "не тот"))


def test_students_come_from_diary_init_of_a_restored_session(
    rsps: responses.RequestsMock,
) -> None:
    """A session that went through JSON still carries ``at``, the cookie and the school."""
    rsps.get(f"{API}/student/diary/init", json=load("diary_init"), match=with_session())
    add_diary(rsps, "diary_week", WEEK)  # Илья's class is null in diary/init (note §2.1)
    restored = BackendSession.from_json(session(school_name="МАОУ «СОШ № 17»").to_json())

    students = connector().students(restored)

    assert [(s.id, s.full_name, s.school, s.class_name) for s in students] == [
        ("583101", "Петров Илья", "МАОУ «СОШ № 17»", "8 «В»"),
        ("583102", "Петрова Вера", "МАОУ «СОШ № 17»", "3 «А»"),
    ]


def test_a_foreign_or_broken_session_is_expired() -> None:
    """The gateway then signs in again."""
    foreign = BackendSession(connector="mesh", data={"token": "x"})

    with pytest.raises(errors.SessionExpired):
        connector().students(foreign)


def test_grades_take_one_diary_call_and_teachers_from_the_mobile_api(
    unordered: responses.RequestsMock,
) -> None:
    """The whole period in one call, the teachers at the same time; weights given, no card."""
    add_diary(unordered, "diary_week", WEEK)
    add_meetings(unordered, WEEK)

    grades = {g.id: g for g in connector().fetch_grades(session(), STUDENT, WEEK)}

    assert len(unordered.calls) == 2
    assert grades["371002130"].teacher == "Григорьева Ольга Николаевна"
    assert grades["371002130"].weight == 20.0


def test_zero_weights_are_read_from_the_cards_of_those_marks_only(
    unordered: responses.RequestsMock,
) -> None:
    """One ``assigns/{id}`` per mark whose diary weight is 0, all at once; dots need none."""
    add_diary(unordered, "diary_edge_cases", EDGE_WEEK)
    weights = {371003001: 10, 371003002: 40, 371003011: 20, 371003013: 0}
    for assignment_id, weight in weights.items():
        card = dict(load("assign_card"), id=assignment_id, weight=weight)
        query = matchers.query_param_matcher({"studentId": STUDENT})
        unordered.get(f"{API}/student/diary/assigns/{assignment_id}", json=card, match=[query])

    grades = connector().fetch_grades(session(mobile_token=None), STUDENT, EDGE_WEEK)

    by_id = {g.id: g.weight for g in grades}
    assert by_id == {"371003001": 10.0, "371003002": 40.0, "371003011": 20.0, "371003013": None}


def test_a_mobile_outage_does_not_hide_the_marks(unordered: responses.RequestsMock) -> None:
    """Teachers' names are a nicety: without them the marks still come."""
    add_diary(unordered, "diary_week", WEEK)
    add_meetings(unordered, WEEK, status=503, json=None, body="down")

    grades = connector().fetch_grades(session(), STUDENT, WEEK)

    assert len(grades) == 3
    assert {g.teacher for g in grades} == {None}


def test_an_expired_web_session_on_a_fetch_is_session_expired(
    rsps: responses.RequestsMock,
) -> None:
    """401 on the diary asks the gateway to sign in again."""
    rsps.get(f"{API}/student/diary", status=401, json={"message": "Authorization has been denied"})

    with pytest.raises(errors.SessionExpired):
        connector().fetch_homework(session(), STUDENT, WEEK)


def test_homework_takes_one_diary_call(rsps: responses.RequestsMock) -> None:
    """Homework is the diary's typeId-3 assignments due in the period."""
    add_diary(rsps, "diary_week", WEEK)

    homework = connector().fetch_homework(session(), STUDENT, WEEK)

    assert len(homework) == 4


def test_schedule_takes_the_diary_and_the_teachers(unordered: responses.RequestsMock) -> None:
    """Two calls at once: the diary for lessons, ``classmeetings`` for who teaches them."""
    add_diary(unordered, "diary_week", WEEK)
    add_meetings(unordered, WEEK)

    lessons = {x.id: x for x in connector().fetch_schedule(session(), STUDENT, WEEK)}

    assert lessons["311204640"].teacher == "Соколова Ирина Павловна"
    assert lessons["311204533"].room is None


def test_attendance_takes_one_mobile_call(rsps: responses.RequestsMock) -> None:
    """The session's bearer token reads ``classmeetings``."""
    add_meetings(rsps, WEEK)

    records = connector(mobile_client_secret=SECRET).fetch_attendance(session(), STUDENT, WEEK)

    assert AttendanceKind.ILL in {x.kind for x in records}
    assert len(rsps.calls) == 1


def test_attendance_mints_a_token_when_the_session_has_none(
    rsps: responses.RequestsMock,
) -> None:
    """A session whose token failed at login gets one for this call."""
    add_mobile_token(rsps)
    add_meetings(rsps, WEEK)

    live = connector(mobile_client_secret=SECRET)
    records = live.fetch_attendance(session(mobile_token=None), STUDENT, WEEK)

    assert len(records) == 7


def test_an_expired_mobile_token_is_session_expired(rsps: responses.RequestsMock) -> None:
    """401 from the mobile API: a fresh login mints a fresh token."""
    add_meetings(rsps, WEEK, status=401, json={"message": "Unauthorized"})

    with pytest.raises(errors.SessionExpired):
        connector(mobile_client_secret=SECRET).fetch_attendance(session(), STUDENT, WEEK)


def test_the_injected_session_keeps_no_parents_cookie(rsps: responses.RequestsMock) -> None:
    """An injected session is shared by every parent, so it must not remember any cookie."""
    shared = requests.Session()
    shared.cookies.set("left", "over")
    live = NetSchoolConnector.from_settings(BASE, {}, http=shared)
    rsps.get(
        f"{API}/student/diary/init",
        json=load("diary_init"),
        headers={"Set-Cookie": "NSSESSIONID=another; path=/"},
        match=with_session(),
    )
    # This parent's next call carries the renewed cookie; the shared session keeps none.
    rsps.get(f"{API}/student/diary", json=load("diary_week"))

    live.students(session())

    assert len(shared.cookies) == 0
