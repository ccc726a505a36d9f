"""A school day changed over the admin API, read back over real HTTP by the real connectors.

Each emulator is served on a loopback port; the teacher's changes go through
``/__admin/day`` and the gateway's connector classes read them through the same wire
endpoints they use in production, normalized.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import typing as t
from collections.abc import Callable
from collections.abc import Iterator

import pytest
import requests

from connectors.base import BackendSession
from connectors.base import Credentials
from connectors.dnevnik_ru import DnevnikRuConnector
from connectors.errors import SecondFactorRequired
from connectors.mesh import MeshConnector
from connectors.netschool import NetSchoolConnector
from connectors.schema import AttendanceKind
from connectors.schema import LessonStatus
from connectors.schema import Period
from regional_mock import dnevnik_ru
from regional_mock import mesh
from regional_mock import netschool
from regional_mock.day_client import DayClient
from regional_mock.day_client import DayRefused
from regional_mock.world import World
from regional_mock.world import build_world
from regional_mock.world import demo_today
from tests.regional_mock.day_helpers import coming_lesson
from tests.regional_mock.day_helpers import held_lesson
from tests.regional_mock.day_helpers import other_subject
from tests.support.live import serving

TIMEOUT = (3, 10)
DNEVNIK_SETTINGS = {
    "mobile_client_id": "dnevnik-mobile-demo",
    "mobile_client_secret": "demo-mobile-secret",
    "partner_client_id": "diary-gateway-partner",
    "partner_client_secret": "demo-dnevnik-secret",
}


@dataclasses.dataclass
class Backend:
    """A served emulator with a signed-in connector and the child the tests change."""

    system: str
    base: str
    world: World
    connector: t.Any
    session: BackendSession
    child: str  # full name in the world
    child_id: str  # the connector's student id

    @property
    def day(self) -> DayClient:
        """Return the school day's HTTP client."""
        return DayClient(self.base)

    def month(self) -> Period:
        """Return the whole generated month."""
        return Period(start=self.world.first_day, end=self.world.last_day)


def _mesh(base: str) -> tuple[t.Any, BackendSession]:
    connector = MeshConnector.from_settings(base, {"read_timeout": 5.0})
    with pytest.raises(SecondFactorRequired) as asked:  # a new device: the SMS is asked
        connector.login(Credentials("irina.smirnova", "Mesh-2026-parent"))
    return connector, connector.confirm_second_factor(asked.value.challenge, "424242")


def _dnevnik(base: str) -> tuple[t.Any, BackendSession]:
    connector = DnevnikRuConnector.from_settings(base, DNEVNIK_SETTINGS)
    return connector, connector.login(Credentials("smirnova.i.s", "Dnevnik-2026"))


def _netschool(base: str) -> tuple[t.Any, BackendSession]:
    connector = NetSchoolConnector.from_settings(
        base, {"mobile_client_secret": "demo-mobile-secret"}
    )
    return connector, connector.login(Credentials("СмирноваИС", "Пароль-2026", school="Лицей № 3"))


SYSTEMS: dict[str, tuple[t.Any, Callable[[str], tuple[t.Any, BackendSession]], str]] = {
    "mesh": (mesh.create_app, _mesh, "Смирнов Артём Дмитриевич"),
    "dnevnik_ru": (dnevnik_ru.create_app, _dnevnik, "Смирнова Полина Дмитриевна"),
    "netschool": (netschool.create_app, _netschool, "Смирнов Максим Дмитриевич"),
}


@pytest.fixture(scope="module")
def world() -> World:
    """Return today's demo world, as the connectors' own live tests do."""
    return build_world(today=demo_today())


@pytest.fixture(scope="module", params=sorted(SYSTEMS))
def served(request: pytest.FixtureRequest, world: World) -> Iterator[Backend]:
    """Serve one emulator for the module and sign its connector in once."""
    create_app, sign_in, child = SYSTEMS[request.param]
    with serving(create_app(world)) as base:
        connector, session = sign_in(base)
        nick = world.student_by_name(child).nick_name
        (child_id,) = [s.id for s in connector.students(session) if s.full_name.startswith(nick)]
        yield Backend(request.param, base, world, connector, session, child, child_id)


@pytest.fixture
def live(served: Backend) -> Iterator[Backend]:
    """Hand the emulator to one test; give back the seeded world after it."""
    yield served
    served.day.reset()


def test_a_mark_arrives_is_edited_under_the_same_id_and_goes(live: Backend) -> None:
    lesson = held_lesson(live.world, live.child)
    before = {g.id for g in live.connector.fetch_grades(live.session, live.child_id, live.month())}
    body = {"student": live.child, "lesson_id": lesson.id, "value": 5, "comment": "Отлично"}
    added = live.day.add_mark(**body)

    grades = live.connector.fetch_grades(live.session, live.child_id, live.month())
    (new,) = [g for g in grades if g.id not in before]
    assert (new.numeric, new.date, new.subject) == (5.0, lesson.date, lesson.subject)
    assert {g.id for g in grades} - {new.id} == before

    assert live.day.edits()[-1]["record"] == added
    live.day.edit_mark(added["id"], value=3)
    grades = live.connector.fetch_grades(live.session, live.child_id, live.month())
    (edited,) = [g for g in grades if g.id == new.id]
    assert edited.numeric == 3.0 and edited.value == "3"

    live.day.delete_mark(added["id"])
    grades = live.connector.fetch_grades(live.session, live.child_id, live.month())
    assert {g.id for g in grades} == before


def test_an_absence_appears_in_attendance(live: Backend) -> None:
    lesson = held_lesson(live.world, live.child, days_back=2)
    student = live.world.student_by_name(live.child)
    assert lesson.id not in {a.lesson_id for a in live.world.absences if a.student_id == student.id}
    live.day.mark_absence(student=live.child, lesson_id=lesson.id, kind="ill")
    found = live.connector.fetch_attendance(live.session, live.child_id, live.month())
    assert (lesson.date, lesson.number, AttendanceKind.ILL) in {
        (a.date, a.lesson_number, a.kind) for a in found
    }


def test_lesson_changes_show_as_each_system_reports_them(live: Backend) -> None:
    """MESH flags replaced and cancelled lessons; Dnevnik.ru and NetSchool have no field.

    There a replacement is just the new subject, and a cancelled lesson is not listed.
    """
    replaced = coming_lesson(live.world, live.child)
    cancelled = next(
        x
        for x in live.world.lessons_of(
            live.world.student_by_name(live.child).id, replaced.date, replaced.date
        )
        if x.number != replaced.number
    )
    subject = other_subject(live.world, replaced)
    live.day.replace_lesson(replaced.id, subject=subject)
    live.day.cancel_lesson(cancelled.id)

    day = Period(start=replaced.date, end=replaced.date)
    lessons = {x.number: x for x in live.connector.fetch_schedule(live.session, live.child_id, day)}
    assert lessons[replaced.number].subject == subject
    if live.system == "mesh":
        assert lessons[replaced.number].status is LessonStatus.REPLACED
        assert lessons[cancelled.number].status is LessonStatus.CANCELLED
    else:
        assert lessons[replaced.number].status is LessonStatus.PLANNED
        assert cancelled.number not in lessons


def test_homework_appears(live: Backend) -> None:
    lesson = coming_lesson(live.world, live.child)
    live.day.set_homework(lesson_id=lesson.id, text="Выучить стихотворение")
    found = live.connector.fetch_homework(live.session, live.child_id, live.month())
    assert ("Выучить стихотворение", lesson.date, lesson.subject) in {
        (h.text, h.due_on, h.subject) for h in found
    }


def test_a_meeting_appears_where_the_system_serves_events(live: Backend) -> None:
    """Only MESH's connector reads events; NetSchool's announcements are checked in-process."""
    starts = dt.datetime.combine(live.world.today + dt.timedelta(days=2), dt.time(19, 0))
    body = {"student": live.child, "starts_at": starts.isoformat(), "place": "актовый зал"}
    event = live.day.call_meeting(**body, title="Собрание: летний лагерь")
    assert event["class_id"] == live.world.student_by_name(live.child).class_id
    if live.system != "mesh":
        return
    period = Period(start=live.world.today, end=live.world.last_day)
    events = live.connector.fetch_events(live.session, live.child_id, period)
    (found,) = [e for e in events if e.title == "Собрание: летний лагерь"]
    assert found.starts_at.replace(tzinfo=None) == starts and found.place == "актовый зал"


def test_reset_gives_back_what_the_connector_read_before(live: Backend) -> None:
    before = live.connector.fetch_grades(live.session, live.child_id, live.month())
    mark = next(
        m for m in live.world.marks if m.student_id == live.world.student_by_name(live.child).id
    )
    live.day.delete_mark(mark.id)
    assert (
        len(live.connector.fetch_grades(live.session, live.child_id, live.month()))
        == len(before) - 1
    )
    live.day.reset()
    assert live.connector.fetch_grades(live.session, live.child_id, live.month()) == before


def test_refusals_name_the_field_and_the_budget_counts_the_connector(live: Backend) -> None:
    with pytest.raises(DayRefused) as refused:
        live.day.add_mark(student=live.child, lesson_id="урок", value=5)
    assert (refused.value.status, refused.value.field) == (400, "lesson_id")
    with pytest.raises(DayRefused) as unknown:
        live.day.edit_mark(1, value=5)
    assert unknown.value.status == 404
    requests.post(f"{live.base}/__admin/stats/reset", timeout=TIMEOUT).raise_for_status()
    live.connector.fetch_grades(live.session, live.child_id, live.month())
    stats = requests.get(f"{live.base}/__admin/stats", timeout=TIMEOUT).json()
    budget = live.day.budget()
    assert budget["total"] == sum(stats.values()) >= 1
    assert 1 <= budget["peak_per_minute"] <= budget["total"]
