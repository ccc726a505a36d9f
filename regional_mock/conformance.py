"""The built-in connectors as conformance targets, each against its emulator over the demo world.

The kit (``connectors.testing``) knows no emulator; this module is where ours meet it. A
:class:`WorldOracle` reads what a connector should show from the world the emulator serves;
:func:`targets` describes the three built-in connectors on the world of one day (mid-September
by default, so the world spans 1 September).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator

from connectors.base import Credentials
from connectors.dnevnik_ru import DnevnikRuConnector
from connectors.mesh import MeshConnector
from connectors.netschool import NetSchoolConnector
from connectors.schema import Period
from connectors.schema import Student
from connectors.testing import ConformanceTarget
from connectors.testing import GradeKey
from connectors.testing import WSGIApp
from regional_mock import dnevnik_ru as dnevnik_mock
from regional_mock import mesh as mesh_mock
from regional_mock import netschool as netschool_mock
from regional_mock.dnevnik_ru import ids as dnevnik_ids
from regional_mock.mesh.ids import MeshIds
from regional_mock.mesh.payloads import mesh_weight
from regional_mock.records import Mark
from regional_mock.world import World
from regional_mock.world import build_world

TODAY = dt.date(2026, 9, 16)
SEED = 2026
Grades = Callable[[World, Student, Period], Iterable[GradeKey]]
world_of = functools.cache(build_world)  # one world per day and seed, shared by every check


@dataclasses.dataclass(frozen=True, kw_only=True)
class WorldOracle:
    """What one connector should show of the demo world, for one login (a kit ``Oracle``)."""

    world: World
    students: tuple[str, ...]
    sign_in_requests: frozenset[str]
    grades: Grades

    @property
    def today(self) -> dt.date:
        """The world's day."""
        return self.world.today

    @property
    def month(self) -> Period:
        """The whole school month the world holds."""
        return Period(start=self.world.first_day, end=self.world.last_day)

    @property
    def private_names(self) -> tuple[str, ...]:
        """Every child's full name in the world, of every family."""
        return tuple(s.full_name for s in self.world.students)

    def expected_grades(self, student: Student, period: Period) -> Iterable[GradeKey]:
        """Return the grades the connector should show for a listed student in a period."""
        return self.grades(self.world, student, period)


def numeric(mark: Mark) -> float | None:
    """Return a mark's numeric value: numeric marks only."""
    return float(mark.value) if mark.kind == "numeric" and mark.value is not None else None


def world_student(world: World, shown: str) -> int:
    """Return the world id of the student a connector shows as ``shown`` (maybe shortened)."""
    (found,) = [s.id for s in world.students if f"{s.full_name} ".startswith(f"{shown} ")]
    return found


def marks(world: World, student: Student, period: Period) -> list[Mark]:
    """Return the world's marks of a listed student in a period."""
    return list(world.marks_of(world_student(world, student.full_name), period.start, period.end))


def netschool_grades(world: World, student: Student, period: Period) -> Iterator[GradeKey]:
    """NetSchool: assignment ids and weights 10/20/40; owed-work dots are no grades."""
    for m in marks(world, student, period):
        if m.kind != "dot":
            yield (str(m.id), m.shown, numeric(m), float(m.weight))


def dnevnik_grades(world: World, student: Student, period: Period) -> Iterator[GradeKey]:
    """Dnevnik.ru: 64-bit mark ids and work-type weights 1/2/4; no dots."""
    for m in marks(world, student, period):
        if m.kind != "dot":
            weight = float(max(world.work_type(m.work_type_id).weight // 10, 1))
            yield (str(dnevnik_ids.encode("mark", m.id)), m.shown, numeric(m), weight)


def mesh_grades(world: World, student: Student, period: Period) -> Iterator[GradeKey]:
    """MESH: 10-digit mark ids and coefficients 1/1/2."""
    ids = MeshIds(world)
    for m in marks(world, student, period):
        yield (str(ids.mark_id(m.id)), m.shown, numeric(m), float(mesh_weight(m.weight)))


def serving(create_app: Callable[[World], WSGIApp]) -> Callable[[WorldOracle], WSGIApp]:
    """Return an emulator factory serving the oracle's world."""
    return lambda oracle: create_app(oracle.world)


def targets(today: dt.date = TODAY, seed: int = SEED) -> list[ConformanceTarget[WorldOracle]]:
    """Return the three built-in targets on the world of ``today`` (built at the first check)."""

    def on_world(
        students: tuple[str, ...], sign_in_requests: set[str], grades: Grades
    ) -> Callable[[], WorldOracle]:
        return lambda: WorldOracle(
            world=world_of(today=today, seed=seed),
            students=students,
            sign_in_requests=frozenset(sign_in_requests),
            grades=grades,
        )

    netschool = ConformanceTarget(
        name="netschool",
        connector=NetSchoolConnector,
        emulator=serving(netschool_mock.create_app),
        oracle=on_world(
            ("Смирнов Максим",),
            {"POST /webapi/login", "POST /webapi/auth/login"},
            netschool_grades,
        ),
        settings={"mobile_client_secret": "demo-mobile-secret"},
        credentials=Credentials("СмирноваИС", "Пароль-2026", school="Лицей № 3"),
        wrong_password="не тот пароль",
        lockout=(Credentials("СмирноваИС", "Пароль-2026", school="Лицей № 3"), 3),
    )
    dnevnik_ru = ConformanceTarget(
        name="dnevnik_ru",
        connector=DnevnikRuConnector,
        emulator=serving(dnevnik_mock.create_app),
        oracle=on_world(
            ("Смирнова Полина Дмитриевна",),
            {"POST /mobile/v8.5/authorizations/bycredentials", "POST /v2.0/authorizations"},
            dnevnik_grades,
        ),
        settings={
            "mobile_client_id": "dnevnik-mobile-demo",
            "mobile_client_secret": "demo-mobile-secret",
        },
        credentials=Credentials("smirnova.i.s", "Dnevnik-2026"),
        wrong_password="not-the-password",
        lockout=(Credentials("smirnova.i.s", "Dnevnik-2026"), 5),
    )
    mesh = ConformanceTarget(
        name="mesh",
        connector=MeshConnector,
        emulator=serving(mesh_mock.create_app),
        oracle=on_world(
            ("Смирнов Артём Дмитриевич",),
            {"POST /sps/login/methods/headless/password"},
            mesh_grades,
        ),
        credentials=Credentials("irina.smirnova", "Mesh-2026-parent"),
        second_factor_code="424242",
        wrong_password="not-the-password",
        lockout=(Credentials("irina.smirnova", "Mesh-2026-parent"), 5),
    )
    return [netschool, dnevnik_ru, mesh]
