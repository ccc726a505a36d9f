"""The NetSchool connector against the NetSchool emulator, over real HTTP."""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import functools
import typing as t

import pytest
import requests

from connectors import errors
from connectors.base import BackendSession
from connectors.base import Credentials
from connectors.concurrency import gather
from connectors.netschool import NetSchoolConnector
from connectors.reuse import Reads
from connectors.reuse import sharing
from connectors.schema import AttendanceKind
from connectors.schema import Period
from regional_mock.netschool import create_app
from regional_mock.world import World
from regional_mock.world import build_world
from tests.support.live import serving

TODAY = dt.date(2025, 10, 15)
SECRET = "demo-mobile-secret"
SCHOOL = "Лицей № 3"
PARENT = Credentials("СмирноваИС", "Пароль-2026", school=SCHOOL)
SIBLINGS = Credentials("КузнецовАП", "Дарья2015", school=SCHOOL)
MAKSIM = "Смирнов Максим Дмитриевич"
KINDS = {
    "ill": AttendanceKind.ILL,
    "unexcused": AttendanceKind.UNEXCUSED,
    "excused": AttendanceKind.EXCUSED,
    "late": AttendanceKind.LATE,
    "absent": AttendanceKind.ABSENT,
}


@pytest.fixture(scope="module")
def world() -> World:
    """Return the demo world on a fixed day."""
    return build_world(today=TODAY, seed=2026)


@pytest.fixture(scope="module")
def base_url(world: World) -> t.Iterator[str]:
    """Serve the emulator over the world for the whole module."""
    with serving(create_app(world)) as url:
        yield url


@pytest.fixture(scope="module")
def netschool(base_url: str) -> NetSchoolConnector:
    """Return a connector instance with a mobile client secret."""
    return NetSchoolConnector.from_settings(base_url, {"mobile_client_secret": SECRET})


@pytest.fixture(scope="module")
def signed_in(netschool: NetSchoolConnector) -> BackendSession:
    """Sign Максим's mother in once."""
    return netschool.login(PARENT)


def period(world: World) -> Period:
    """Return the whole month the world holds."""
    return Period(start=world.first_day, end=world.last_day)


def maksim_id(world: World) -> str:
    """Return Максим's NetSchool id."""
    return str(world.student_by_name(MAKSIM).id)


def expected_grades(world: World) -> set[tuple[t.Any, ...]]:
    """Return the world's marks of Максим as grades would show them; dots are no grades."""
    marks = world.marks_of(int(maksim_id(world)), world.first_day, world.last_day)
    return {
        (
            str(m.id),
            m.subject,
            m.shown,
            float(m.value) if m.value is not None else None,
            m.date,
            float(m.weight),
            m.work_type,
            world.teacher(m.teacher_id).full_name,
            m.comment,
            m.topic,
        )
        for m in marks
        if m.kind != "dot"
    }


def as_rows(grades: list[t.Any]) -> set[tuple[t.Any, ...]]:
    """Return grades as comparable rows."""
    return {
        (g.id, g.subject, g.value, g.numeric, g.date, g.weight, g.work_type)
        + (g.teacher, g.comment, g.topic)
        for g in grades
    }


def test_login_by_school_name_yields_a_session(signed_in: BackendSession) -> None:
    """«Лицей № 3» is found by name and the handshake passes."""
    assert signed_in.data["at"]
    assert signed_in.data["mobile_token"]
    assert "NSSESSIONID" in signed_in.data["cookies"]


def test_students_of_a_one_child_parent(
    netschool: NetSchoolConnector, signed_in: BackendSession, world: World
) -> None:
    """Максим's mother sees Максим only."""
    students = netschool.students(signed_in)

    assert [(s.id, s.full_name) for s in students] == [(maksim_id(world), "Смирнов Максим")]
    assert (students[0].school, students[0].class_name) == ("МБОУ Лицей № 3 г. Самары", "10 «А»")


def test_grades_equal_what_the_world_holds(
    netschool: NetSchoolConnector, signed_in: BackendSession, world: World
) -> None:
    """Every mark of Максим in the month, exactly; dots are not grades."""
    grades = netschool.fetch_grades(signed_in, maksim_id(world), period(world))

    assert as_rows(grades) == expected_grades(world)


def test_zero_diary_weights_are_completed_from_the_cards(world: World) -> None:
    """An emulator serving weight 0 (2019–2023 servers) still yields the real weights."""
    app = create_app(world, {"NETSCHOOL_DIARY_ZERO_WEIGHTS": True})
    with serving(app) as url:
        live = NetSchoolConnector.from_settings(url, {"mobile_client_secret": SECRET})
        grades = live.fetch_grades(live.login(PARENT), maksim_id(world), period(world))

    assert as_rows(grades) == expected_grades(world)


def test_wrong_password_is_invalid_credentials(netschool: NetSchoolConnector) -> None:
    """A wrong password asks the parent to relink."""
    with pytest.raises(errors.InvalidCredentials):
        netschool.login(Credentials("СмирноваИС", "не тот пароль", school=SCHOOL))


def test_sibling_login_sees_two_students(netschool: NetSchoolConnector) -> None:
    """One login, two children."""
    students = netschool.students(netschool.login(SIBLINGS))

    assert [s.full_name for s in students] == ["Кузнецова Дарья", "Кузнецов Егор"]
    assert [s.class_name for s in students] == ["5 «В»", "1 «Б»"]


def test_attendance_kinds_equal_the_worlds_absences(
    netschool: NetSchoolConnector, signed_in: BackendSession, world: World
) -> None:
    """Each absence and late arrival comes through the mobile API with its kind."""
    records = netschool.fetch_attendance(signed_in, maksim_id(world), period(world))

    absences = world.absences_of(int(maksim_id(world)), world.first_day, world.last_day)
    expected = sorted((a.date, a.number, a.subject, KINDS[a.kind]) for a in absences)
    assert sorted((r.date, r.lesson_number, r.subject, r.kind) for r in records) == expected


def test_homework_equals_the_worlds_tasks(
    netschool: NetSchoolConnector, signed_in: BackendSession, world: World
) -> None:
    """Each task of Максим's class due in the month, with its text and due date."""
    homework = netschool.fetch_homework(signed_in, maksim_id(world), period(world))

    tasks = world.homework_of(int(maksim_id(world)), world.first_day, world.last_day)
    expected = {(str(h.id), h.subject, h.text, h.due_on) for h in tasks}
    assert {(h.id, h.subject, h.text, h.due_on) for h in homework} == expected


def test_schedule_holds_every_lesson_that_takes_place(
    netschool: NetSchoolConnector, signed_in: BackendSession, world: World
) -> None:
    """Cancelled lessons vanish from NetSchool's diary; the rest come with their teachers."""
    lessons = netschool.fetch_schedule(signed_in, maksim_id(world), period(world))

    held = [
        x
        for x in world.lessons_of(int(maksim_id(world)), world.first_day, world.last_day)
        if x.status != "cancelled"
    ]
    assert {x.id for x in lessons} == {str(x.id) for x in held}
    assert all(x.teacher for x in lessons)


def test_one_instance_serves_many_parents_at_once(netschool: NetSchoolConnector) -> None:
    """Parents signing in and reading in parallel never see each other's children."""

    def children(credentials: Credentials) -> list[str]:
        """Sign in and list the children's names."""
        return [s.full_name for s in netschool.students(netschool.login(credentials))]

    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        runs = list(pool.map(children, [PARENT, SIBLINGS] * 6))

    assert runs == [["Смирнов Максим"], ["Кузнецова Дарья", "Кузнецов Егор"]] * 6


def test_one_read_of_every_section_asks_the_diary_and_the_meetings_once(
    netschool: NetSchoolConnector, signed_in: BackendSession, world: World, base_url: str
) -> None:
    """The diary holds the marks, the homework and the lessons, the class meetings the
    absences and the teachers: within one read, four sections cost those two requests (and
    the cards of marks whose weight the diary gives as 0), the same records as apart."""
    student, window = maksim_id(world), period(world)
    fetches = [
        netschool.fetch_grades,
        netschool.fetch_homework,
        netschool.fetch_schedule,
        netschool.fetch_attendance,
    ]
    apart = [fetch(signed_in, student, window) for fetch in fetches]
    requests.post(f"{base_url}/__admin/stats/reset", timeout=5).raise_for_status()
    with sharing(Reads()):
        together = gather([functools.partial(f, signed_in, student, window) for f in fetches])
    assert together == apart
    stats = requests.get(f"{base_url}/__admin/stats", timeout=5).json()
    cards = {k: v for k, v in stats.items() if "/assigns/" in k}
    assert {k: v for k, v in stats.items() if k not in cards} == {
        "GET /webapi/student/diary": 1,
        "GET /api/mobile/classmeetings": 1,
    }
