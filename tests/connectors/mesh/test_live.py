"""The connector against the MESH emulator over real HTTP (regional_mock.mesh)."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import typing as t
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import requests

from connectors.base import BackendSession
from connectors.base import Credentials
from connectors.concurrency import gather
from connectors.errors import AccessDenied
from connectors.errors import AccountLocked
from connectors.errors import BackendUnavailable
from connectors.errors import ConnectorError
from connectors.errors import InvalidCredentials
from connectors.errors import RateLimited
from connectors.errors import SecondFactorRequired
from connectors.errors import SessionExpired
from connectors.errors import UnexpectedResponse
from connectors.mesh import MeshConnector
from connectors.reuse import Reads
from connectors.reuse import sharing
from connectors.schema import AttendanceKind
from connectors.schema import EventKind
from connectors.schema import LessonStatus
from connectors.schema import Period
from regional_mock.mesh import create_app
from regional_mock.mesh.ids import MeshIds
from regional_mock.mesh.payloads import mesh_weight
from regional_mock.world import World
from regional_mock.world import build_world
from regional_mock.world import demo_today
from tests.support.live import serving

IRINA = Credentials("irina.smirnova", "Mesh-2026-parent")
OTHER = Credentials("other.parent", "Other-2026")
ARTEM = "Смирнов Артём Дмитриевич"
CODE = "424242"
EXTRA = [{"login": OTHER.login, "password": OTHER.password, "holder": "Петрова Анна Игоревна"}]


@dataclass
class Live:
    """A served emulator, its world and a connector pointed at it."""

    base: str
    world: World
    connector: MeshConnector

    def stats(self) -> dict[str, int]:
        """Return the emulator's request counts since the last reset."""
        return t.cast(dict[str, int], requests.get(f"{self.base}/__admin/stats", timeout=5).json())

    def reset_stats(self) -> None:
        """Zero the emulator's request counts."""
        requests.post(f"{self.base}/__admin/stats/reset", timeout=5).raise_for_status()

    def fault(self, **changes: t.Any) -> None:
        """Change the emulator's faults."""
        requests.post(f"{self.base}/__admin/faults", json=changes, timeout=5).raise_for_status()

    def sign_in(self, credentials: Credentials = IRINA) -> BackendSession:
        """Sign in on a new device: the SMS is asked, then confirmed with the demo code."""
        with pytest.raises(SecondFactorRequired) as asked:
            self.connector.login(credentials)
        return self.connector.confirm_second_factor(asked.value.challenge, CODE)

    @property
    def artem(self) -> str:
        """Return Артём's MESH student id."""
        return str(MeshIds(self.world).student_profile_id(self.world.student_by_name(ARTEM)))

    def month(self) -> Period:
        """Return the world's school month up to today."""
        return Period(start=self.world.first_day, end=self.world.today)


@pytest.fixture(scope="module")
def world() -> World:
    """Return today's demo world."""
    return build_world(today=demo_today())


@contextlib.contextmanager
def emulator(world: World) -> Iterator[Live]:
    """Serve an emulator over the world, with a connector that waits 2 s at most to read."""
    app = create_app(world, {"MESH_EXTRA_ACCOUNTS": EXTRA, "MESH_LOCKOUT_ATTEMPTS": 3})
    with serving(app) as base:
        yield Live(base, world, MeshConnector.from_settings(base, {"read_timeout": 2.0}))


@pytest.fixture(scope="module")
def served(world: World) -> Iterator[Live]:
    """Serve one emulator for the module (a server takes half a second to stop)."""
    with emulator(world) as running:
        yield running


@pytest.fixture
def live(served: Live) -> Iterator[Live]:
    """Hand the served emulator to one test with zeroed counts; clear its faults after."""
    served.reset_stats()
    yield served
    requests.delete(f"{served.base}/__admin/faults", timeout=5).raise_for_status()


def test_first_login_asks_for_the_sms_then_the_code_opens_a_session(live: Live) -> None:
    """Three requests reach the SMS; four more finish (code, trust, callback, profile)."""
    with pytest.raises(SecondFactorRequired) as asked:
        live.connector.login(IRINA)
    assert (asked.value.destination, asked.value.code_length) == ("+7 900 ***-**-01", 6)
    assert sum(live.stats().values()) == 3
    session = live.connector.confirm_second_factor(asked.value.challenge, CODE)
    assert sum(live.stats().values()) == 7
    assert session.data["device"] and session.data["token"]
    assert session.expires_at is not None
    assert session.expires_at > dt.datetime.now(dt.UTC) + dt.timedelta(hours=23)


def test_a_second_login_with_the_previous_session_asks_no_sms(live: Live) -> None:
    """The trusted-device cookie from ``previous`` skips the SMS: four requests in all."""
    first = live.sign_in()
    live.reset_stats()
    second = live.connector.login(IRINA, previous=first)
    stats = live.stats()
    assert not any("sms" in key or "askToTrust" in key for key in stats)
    assert sum(stats.values()) == 4
    assert second.data["device"] == first.data["device"]
    assert second.data["token"] != first.data["token"]


def test_students_are_artem(live: Live) -> None:
    """Irina's MESH login shows Артём, 7-Б."""
    students = live.connector.students(live.sign_in())
    assert [(s.id, s.full_name, s.class_name) for s in students] == [(live.artem, ARTEM, "7 «Б»")]
    assert students[0].school == "ГБОУ Школа № 1535"


def test_grades_equal_the_worlds_marks(live: Live) -> None:
    """Every mark of the month, with MESH ids, values as shown and MESH weights."""
    session, period = live.sign_in(), live.month()
    ids = MeshIds(live.world)
    artem = live.world.student_by_name(ARTEM)
    expected = {
        (str(ids.mark_id(m.id)), m.date, m.subject, m.shown, float(mesh_weight(m.weight)))
        for m in live.world.marks_of(artem.id, period.start, period.end)
    }
    grades = live.connector.fetch_grades(session, live.artem, period)
    assert {(g.id, g.date, g.subject, g.value, g.weight) for g in grades} == expected
    assert len(grades) == len(expected)
    assert any(g.value == "зч" and g.numeric is None for g in grades)
    assert any(g.comment for g in grades) and any(g.weight == 2.0 for g in grades)


def test_schedule_shows_a_replaced_and_a_cancelled_lesson_in_the_coming_week(live: Live) -> None:
    """The calendar's change flags become statuses with a note on what changed."""
    today = live.world.today
    week = Period(start=today + dt.timedelta(days=1), end=today + dt.timedelta(days=7))
    lessons = live.connector.fetch_schedule(live.sign_in(), live.artem, week)
    changed = {x.status: x for x in lessons if x.status is not LessonStatus.PLANNED}
    assert set(changed) == {LessonStatus.REPLACED, LessonStatus.CANCELLED}
    assert changed[LessonStatus.REPLACED].note.startswith("Замена")  # type: ignore[union-attr]
    assert all(x.number and x.starts_at for x in lessons)


def test_homework_comes_with_and_without_attachments(live: Live) -> None:
    """Files of homework are attachments with download URLs on the emulator."""
    found = live.connector.fetch_homework(live.sign_in(), live.artem, live.month())
    with_files = [h for h in found if h.attachments]
    assert with_files and any(not h.attachments for h in found)
    assert with_files[0].attachments[0].url.startswith(live.base)  # type: ignore[union-attr]


def test_attendance_has_an_unexcused_absence_and_an_illness(live: Live) -> None:
    """The journal's missed lessons, classified with the parent's notices."""
    found = live.connector.fetch_attendance(live.sign_in(), live.artem, live.month())
    kinds = {a.kind for a in found}
    assert {AttendanceKind.UNEXCUSED, AttendanceKind.ILL} <= kinds


def test_an_upcoming_parent_meeting_has_an_agenda(live: Live) -> None:
    """The class meeting comes from the calendar's ORGANIZER events."""
    today = live.world.today
    period = Period(start=today, end=today + dt.timedelta(days=14))
    events = live.connector.fetch_events(live.sign_in(), live.artem, period)
    meeting = next(e for e in events if e.kind is EventKind.PARENT_MEETING)
    assert meeting.agenda and meeting.place
    assert meeting.starts_at.date() > today


def test_rating_gives_a_place_in_the_class(live: Live) -> None:
    """The class ranking yields Артём's place among his classmates."""
    (rating,) = live.connector.fetch_rating(live.sign_in(), live.artem, live.month())
    assert 1 <= rating.place <= rating.out_of == 25


def test_one_read_of_every_section_asks_each_endpoint_once(live: Live) -> None:
    """Within one read the calendar serves the marks, the timetable, the absences and the
    events, and a month of homework is one request: four requests for six sections, the same
    records as six reads apart."""
    session = live.sign_in()
    window = Period(start=live.world.today - dt.timedelta(days=6), end=live.world.today)
    fetches = [
        live.connector.fetch_grades,
        live.connector.fetch_homework,
        live.connector.fetch_schedule,
        live.connector.fetch_attendance,
        live.connector.fetch_events,
        live.connector.fetch_rating,
    ]
    apart = [fetch(session, live.artem, window) for fetch in fetches]
    live.reset_stats()
    with sharing(Reads()):
        together = gather([functools.partial(f, session, live.artem, window) for f in fetches])
    assert together == apart
    assert live.stats() == {
        "GET /api/family/web/v1/homeworks": 1,
        "GET /api/eventcalendar/v1/api/events": 1,
        "GET /api/family/mobile/v1/attendance/": 1,
        "GET /api/ej/rating/v1/rank/class": 1,
    }


@pytest.mark.parametrize(
    ("credentials", "error"),
    [
        (Credentials("irina.smirnova", "wrong"), InvalidCredentials),
        (Credentials("nobody.at.all", "wrong"), InvalidCredentials),
    ],
)
def test_wrong_login_or_password_is_invalid_credentials(
    live: Live, credentials: Credentials, error: type[ConnectorError]
) -> None:
    """``invalid_credentials`` and ``no_subject_found`` both ask for a relink."""
    with pytest.raises(error):
        live.connector.login(credentials)


def test_repeated_wrong_passwords_lock_the_account(world: World) -> None:
    """``pswd_method_temp_locked`` after the emulator's lockout count (its own emulator)."""
    with emulator(world) as locked:
        for _ in range(2):
            with pytest.raises(InvalidCredentials):
                locked.connector.login(Credentials(IRINA.login, "wrong"))
        with pytest.raises(AccountLocked):
            locked.connector.login(Credentials(IRINA.login, "wrong"))


def test_wrong_codes_ask_again_until_no_attempts_remain(live: Live) -> None:
    """Each wrong code returns a fresh challenge; the last one is a refusal."""
    with pytest.raises(SecondFactorRequired) as asked:
        live.connector.login(IRINA)
    challenge = asked.value.challenge
    for remain in (2, 1):
        with pytest.raises(SecondFactorRequired) as again:
            live.connector.confirm_second_factor(challenge, "000000")
        challenge = again.value.challenge
        assert challenge["remain_attempts"] == remain
    with pytest.raises(InvalidCredentials):
        live.connector.confirm_second_factor(challenge, "000000")


def test_expired_sessions_raise_session_expired_and_device_trust_survives(live: Live) -> None:
    """After expiry: fetches say SessionExpired, refresh is refused, login needs no SMS."""
    session = live.sign_in()
    live.fault(expire_sessions=True)
    with pytest.raises(SessionExpired):
        live.connector.fetch_grades(session, live.artem, live.month())
    with pytest.raises(InvalidCredentials):
        live.connector.refresh(session)
    again = live.connector.login(IRINA, previous=session)
    assert live.connector.fetch_grades(again, live.artem, live.month())


def test_refresh_rotates_the_tokens_once(live: Live) -> None:
    """A refreshed session reads data; the spent refresh token is refused."""
    session = live.sign_in()
    renewed = live.connector.refresh(session)
    assert live.connector.students(renewed)
    with pytest.raises(InvalidCredentials):
        live.connector.refresh(session)


def test_a_child_of_another_family_is_access_denied(live: Live) -> None:
    """Another parent's login may not read Артём's marks."""
    other = live.sign_in(OTHER)
    assert live.connector.students(other) == []
    with pytest.raises(AccessDenied):
        live.connector.fetch_grades(other, live.artem, live.month())


@pytest.mark.parametrize(
    ("faults", "error"),
    [
        ({"mode": "5xx"}, BackendUnavailable),
        ({"mode": "maintenance"}, BackendUnavailable),
        ({"mode": "maintenance", "maintenance_status": 200}, BackendUnavailable),
        ({"mode": "malformed_json"}, UnexpectedResponse),
        ({"mode": "429"}, RateLimited),
    ],
)
def test_backend_faults_map_to_the_taxonomy(
    live: Live, faults: dict[str, t.Any], error: type[ConnectorError]
) -> None:
    """Server errors, maintenance pages, cut JSON, rate limits and timeouts."""
    session = live.sign_in()
    live.fault(**faults)
    with pytest.raises(error) as raised:
        live.connector.fetch_grades(session, live.artem, live.month())
    if error is RateLimited:
        assert t.cast(RateLimited, raised.value).retry_after == 30.0
    with pytest.raises(error):
        live.connector.login(IRINA, previous=session)


def test_a_slow_backend_times_out_as_unavailable(live: Live) -> None:
    """The read timeout from settings bounds every call; a session serves any connector."""
    session = live.sign_in()
    impatient = MeshConnector.from_settings(live.base, {"read_timeout": 0.3})
    live.fault(latency_ms=800)
    with pytest.raises(BackendUnavailable) as raised:
        impatient.fetch_grades(session, live.artem, live.month())
    assert isinstance(raised.value.__cause__, requests.Timeout)
