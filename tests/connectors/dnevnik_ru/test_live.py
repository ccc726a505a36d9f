"""The connector against the Dnevnik.ru emulator over real HTTP, on today's demo world."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import html
import re
import typing as t
from collections import Counter
from collections.abc import Iterator
from urllib.parse import parse_qs
from urllib.parse import urljoin
from urllib.parse import urlsplit

import pytest
import requests

from connectors.base import BackendSession
from connectors.base import Credentials
from connectors.concurrency import gather
from connectors.dnevnik_ru import DnevnikRuConnector
from connectors.errors import AccessDenied
from connectors.errors import AccountLocked
from connectors.errors import BackendUnavailable
from connectors.errors import InvalidCredentials
from connectors.errors import RateLimited
from connectors.errors import SessionExpired
from connectors.errors import UnexpectedResponse
from connectors.reuse import Reads
from connectors.reuse import sharing
from connectors.schema import AttendanceKind
from connectors.schema import Period
from connectors.schema import Scale
from regional_mock.dnevnik_ru import create_app
from regional_mock.world import World
from regional_mock.world import build_world
from regional_mock.world import demo_today
from tests.connectors.dnevnik_ru.helpers import LOGIN
from tests.connectors.dnevnik_ru.helpers import PARTNER
from tests.connectors.dnevnik_ru.helpers import POLINA
from tests.connectors.dnevnik_ru.helpers import SETTINGS
from tests.support.live import serving

TIMEOUT = (3.05, 10)
CALLBACK = "http://127.0.0.1:8765/children/oauth/callback"
KINDS = {
    "ill": AttendanceKind.ILL,
    "unexcused": AttendanceKind.UNEXCUSED,
    "excused": AttendanceKind.EXCUSED,
    "late": AttendanceKind.LATE,
}


@dataclasses.dataclass
class Live:
    """A served emulator, its world and a connector pointed at it."""

    url: str
    world: World
    connector: DnevnikRuConnector

    def admin(self, path: str, body: dict[str, t.Any]) -> None:
        """Change the emulator's faults or error style."""
        reply = requests.post(f"{self.url}/__admin/{path}", json=body, timeout=TIMEOUT)
        assert reply.status_code == 200, reply.text

    def requests_made(self) -> int:
        """Return how many API requests the emulator counted, then zero the count."""
        stats = requests.get(f"{self.url}/__admin/stats", timeout=TIMEOUT).json()
        requests.post(f"{self.url}/__admin/stats/reset", timeout=TIMEOUT)
        return sum(stats.values())

    def month(self) -> Period:
        """Return the whole generated school month."""
        return Period(start=self.world.first_day, end=self.world.last_day)


@pytest.fixture(scope="module")
def world() -> World:
    """Build today's demo world once."""
    return build_world(today=demo_today())


@pytest.fixture
def live(world: World) -> Iterator[Live]:
    """Serve a fresh emulator that also registers this test's redirect URI."""
    partner = {
        "client_id": PARTNER[0],
        "client_secret": PARTNER[1],
        "redirect_uris": [CALLBACK],
        "scope": "CommonInfo,ContactInfo,FriendsAndRelatives,EducationalInfo",
    }
    config = {"DNEVNIK_CLIENTS": [partner], "DNEVNIK_LOCKOUT_ATTEMPTS": 3}
    with serving(create_app(world, config)) as url:
        yield Live(url, world, DnevnikRuConnector.from_settings(url, SETTINGS))


@pytest.fixture
def signed_in(live: Live) -> BackendSession:
    """Sign in with Полина's parent's school-issued login."""
    return live.connector.login(Credentials(*LOGIN))


def polina(live: Live) -> str:
    """Return Полина's person id as the connector lists it."""
    (student,) = live.connector.students(live.connector.login(Credentials(*LOGIN)))
    return student.id


def browse_to_code(live: Live, url: str) -> tuple[str, str]:
    """Sign in on the emulator's own page as a browser would; return ``(code, state)``."""
    browser = requests.Session()
    form = browser.get(url, timeout=TIMEOUT)
    assert form.status_code == 200 and "/login/" in form.url
    match = re.search(r'name="ReturnUrl" value="([^"]*)"', form.text)
    assert match is not None
    data = {"login": LOGIN[0], "password": LOGIN[1], "ReturnUrl": html.unescape(match[1])}
    signed = browser.post(form.url, data=data, allow_redirects=False, timeout=TIMEOUT)
    assert signed.status_code == 302
    back = browser.get(urljoin(form.url, signed.headers["Location"]), allow_redirects=False)
    location = back.headers["Location"]
    assert location.startswith(CALLBACK + "?")
    query = parse_qs(urlsplit(location).query)
    return query["code"][0], query["state"][0]


def test_password_login_lists_polina_in_three_requests(live: Live) -> None:
    """The sign-in, the context and Полина's groups."""
    live.requests_made()
    backend_session = live.connector.login(Credentials(*LOGIN))
    assert live.requests_made() == 3
    assert backend_session.data["flow"] == "password"
    assert backend_session.expires_at is not None
    (student,) = live.connector.students(backend_session)
    assert (student.full_name, student.school) == (POLINA, "МОУ СОШ № 12 г. Твери")
    assert student.class_name == "2 «А»"


def test_the_partner_flow_links_through_the_emulators_sign_in_page(live: Live) -> None:
    url = live.connector.authorization_url(redirect_uri=CALLBACK, state="st-7")
    assert url is not None
    code, state = browse_to_code(live, url)
    assert state == "st-7"
    granted = live.connector.complete_authorization(code=code, redirect_uri=CALLBACK)
    assert granted.data["flow"] == "partner"
    assert [s.full_name for s in live.connector.students(granted)] == [POLINA]
    renewed = live.connector.refresh(granted)
    assert renewed.data["access_token"] != granted.data["access_token"]
    assert [s.full_name for s in live.connector.students(renewed)] == [POLINA]
    with pytest.raises(InvalidCredentials):  # a code is good for one exchange only
        live.connector.complete_authorization(code=code, redirect_uri=CALLBACK)


def test_grades_are_exactly_the_worlds_marks_with_scale_and_weight(live: Live) -> None:
    student = live.world.student_by_name(POLINA)
    expected = Counter(
        (
            m.date,
            m.subject,
            m.shown,
            float(m.value) if m.kind == "numeric" and m.value is not None else None,
            Scale.FIVE_POINT if m.kind == "numeric" else Scale.PASS_FAIL,
            float(max(live.world.work_type(m.work_type_id).weight // 10, 1)),
            m.work_type,
        )
        for m in live.world.marks_of(student.id, live.world.first_day, live.world.last_day)
        if m.kind != "dot"
    )
    grades = live.connector.fetch_grades(
        live.connector.login(Credentials(*LOGIN)), polina(live), live.month()
    )
    found = Counter(
        (g.date, g.subject, g.value, g.numeric, g.scale, g.weight, g.work_type) for g in grades
    )
    assert found == expected
    assert {g.weight for g in grades} <= {1.0, 2.0, 4.0}
    assert any(g.numeric is None for g in grades)


def test_homework_matches_the_world_with_attachments(live: Live) -> None:
    student = live.world.student_by_name(POLINA)
    items = live.world.homework_of(student.id, live.world.first_day, live.world.last_day)
    found = live.connector.fetch_homework(
        live.connector.login(Credentials(*LOGIN)), polina(live), live.month()
    )
    assert sorted((h.due_on, h.subject, h.text) for h in found) == sorted(
        (h.due_on, h.subject, h.text) for h in items
    )
    names = sorted(a.name for h in found for a in h.attachments)
    assert names == sorted(a.name for h in items for a in h.attachments)
    assert names and all(a.url for h in found for a in h.attachments)


def test_attendance_kinds_match_the_worlds_absences(live: Live) -> None:
    student = live.world.student_by_name(POLINA)
    absences = live.world.absences_of(student.id, live.world.first_day, live.world.last_day)
    found = live.connector.fetch_attendance(
        live.connector.login(Credentials(*LOGIN)), polina(live), live.month()
    )
    assert sorted((a.date, a.subject, a.lesson_number, a.kind) for a in found) == sorted(
        (a.date, a.subject, a.number, KINDS[a.kind]) for a in absences
    )
    assert {AttendanceKind.ILL, AttendanceKind.UNEXCUSED} <= {a.kind for a in found}


def test_schedule_shows_every_held_lesson_with_times_and_teacher(live: Live) -> None:
    student = live.world.student_by_name(POLINA)
    lessons = live.world.lessons_of(student.id, live.world.first_day, live.world.last_day)
    held = [x for x in lessons if x.status != "cancelled"]  # v2 has no field for them
    found = live.connector.fetch_schedule(
        live.connector.login(Credentials(*LOGIN)), polina(live), live.month()
    )
    assert sorted((x.date, x.number, x.subject) for x in found) == sorted(
        (x.date, x.number, x.subject) for x in held
    )
    assert all(x.starts_at and x.ends_at and x.teacher for x in found)
    assert any(x.homework for x in found)


def test_wrong_password_is_invalid_credentials_then_the_login_locks(live: Live) -> None:
    for _ in range(3):
        with pytest.raises(InvalidCredentials) as caught:
            live.connector.login(Credentials(LOGIN[0], "wrong-password"))
        assert type(caught.value) is InvalidCredentials
    with pytest.raises(AccountLocked):
        live.connector.login(Credentials(*LOGIN))


@pytest.mark.parametrize("style", [{}, {"errors_with_200": True, "spelling": "long"}])
def test_an_expired_token_is_session_expired_and_cannot_be_refreshed(
    live: Live, signed_in: BackendSession, style: dict[str, t.Any]
) -> None:
    if style:
        live.admin("dnevnik", style)
    live.admin("faults", {"expire_sessions": True})
    with pytest.raises(SessionExpired):
        live.connector.students(signed_in)
    with pytest.raises(InvalidCredentials):
        live.connector.refresh(signed_in)
    assert live.connector.students(live.connector.login(Credentials(*LOGIN)))


@pytest.mark.parametrize("spelling", ["short", "long"])
def test_another_familys_child_is_access_denied_even_with_http_200(
    live: Live, signed_in: BackendSession, spelling: str
) -> None:
    live.admin("dnevnik", {"errors_with_200": True, "spelling": spelling})
    (child,) = signed_in.data["children"].values()
    stranger = str(1_000_000_000_000 + 2 * 10_000_000_000 + live.world.students[0].id)
    assert stranger not in signed_in.data["children"]
    data = {**signed_in.data, "children": {stranger: child}}
    tampered = BackendSession(connector="dnevnik_ru", data=data)
    with pytest.raises(AccessDenied):
        live.connector.fetch_homework(tampered, stranger, live.month())


@pytest.mark.parametrize(
    ("faults", "expected"),
    [
        ({"mode": "5xx"}, BackendUnavailable),
        ({"mode": "maintenance"}, BackendUnavailable),
        ({"mode": "maintenance", "maintenance_status": 200}, BackendUnavailable),
        ({"mode": "malformed_json"}, UnexpectedResponse),
        ({"mode": "429"}, RateLimited),
    ],
)
def test_emulator_faults_map_to_the_taxonomy(
    live: Live, signed_in: BackendSession, faults: dict[str, t.Any], expected: type[Exception]
) -> None:
    live.admin("faults", faults)
    with pytest.raises(expected) as caught:
        live.connector.fetch_grades(signed_in, next(iter(signed_in.data["children"])), live.month())
    assert type(caught.value) is expected
    if isinstance(caught.value, RateLimited):
        assert caught.value.retry_after == 30.0


def test_a_slow_backend_times_out_as_unavailable(live: Live, signed_in: BackendSession) -> None:
    impatient = DnevnikRuConnector.from_settings(live.url, {**SETTINGS, "read_timeout": 0.2})
    live.admin("faults", {"latency_ms": 600})
    with pytest.raises(BackendUnavailable, match="timed out"):
        impatient.students(signed_in)


def test_one_read_asks_nothing_twice_and_gives_what_reads_apart_give(
    live: Live, signed_in: BackendSession
) -> None:
    """The marks and the lesson log look their lessons up in the same class lessons: within
    one read those are asked once, and every section gets the records of a read alone."""
    student, window = polina(live), live.month()
    fetches = [
        live.connector.fetch_grades,
        live.connector.fetch_homework,
        live.connector.fetch_schedule,
        live.connector.fetch_attendance,
    ]
    live.requests_made()  # from zero: the sign-in and the students are not counted
    apart = [fetch(signed_in, student, window) for fetch in fetches]
    alone = live.requests_made()
    with sharing(Reads()):
        together = gather([functools.partial(f, signed_in, student, window) for f in fetches])
    assert together == apart
    stats = requests.get(f"{live.url}/__admin/stats", timeout=TIMEOUT).json()
    class_lessons = [key for key in stats if "/edu-groups/" in key and "/lessons/" in key]
    assert class_lessons and all(stats[key] == 1 for key in class_lessons)
    assert sum(stats.values()) == alone - len(class_lessons)


def test_a_short_window_reads_every_section_in_four_requests_as_a_long_read_has_them(
    live: Live, signed_in: BackendSession
) -> None:
    """The sync's window, a week back and a week ahead, takes grades and attendance from the
    two weekly schedules bundles the timetable asks anyway: with the work types and the
    homework four requests, and the records of the window are those a month's read gives,
    which asks the marks and the lesson log."""
    student, today = polina(live), live.world.today
    window = Period(start=today - dt.timedelta(days=6), end=today + dt.timedelta(days=6))
    fetches = [
        live.connector.fetch_grades,
        live.connector.fetch_homework,
        live.connector.fetch_schedule,
        live.connector.fetch_attendance,
    ]
    live.requests_made()
    with sharing(Reads()):
        grades, homework, lessons, absences = gather(
            [functools.partial(f, signed_in, student, window) for f in fetches]
        )
    assert live.requests_made() == 4
    month = live.month()
    assert len(month.days()) > 14
    long_grades = live.connector.fetch_grades(signed_in, student, month)
    assert grades == [g for g in long_grades if window.start <= g.date <= window.end]
    long_absences = live.connector.fetch_attendance(signed_in, student, month)
    assert absences == [a for a in long_absences if window.start <= a.date <= window.end]
    assert grades and absences and lessons and homework
