"""Describe the built-in connectors and their emulators as conformance targets."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator

from connectors.base import Credentials
from connectors.dnevnik_ru import DnevnikRuConnector
from connectors.netschool import NetSchoolConnector
from connectors.schema import Period
from connectors.schema import Student
from connectors.testing import ConformanceTarget
from connectors.testing import GradeKey
from regional_mock import dnevnik_ru as dnevnik_mock
from regional_mock import netschool as netschool_mock
from regional_mock.dnevnik_ru import ids as dnevnik_ids
from regional_mock.records import Mark
from regional_mock.world import World


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
    from regional_mock.mesh.ids import MeshIds
    from regional_mock.mesh.payloads import mesh_weight

    ids = MeshIds(world)
    for m in marks(world, student, period):
        yield (str(ids.mark_id(m.id)), m.shown, numeric(m), float(mesh_weight(m.weight)))


NETSCHOOL = ConformanceTarget(
    name="netschool",
    connector=NetSchoolConnector,
    emulator=netschool_mock.create_app,
    settings={"mobile_client_secret": "demo-mobile-secret"},
    credentials=Credentials("СмирноваИС", "Пароль-2026", school="Лицей № 3"),
    wrong_password="не тот пароль",
    lockout=(Credentials("СмирноваИС", "Пароль-2026", school="Лицей № 3"), 3),
    students=("Смирнов Максим",),
    expected_grades=netschool_grades,
    sign_in_requests=frozenset({"POST /webapi/login", "POST /webapi/auth/login"}),
)

DNEVNIK_RU = ConformanceTarget(
    name="dnevnik_ru",
    connector=DnevnikRuConnector,
    emulator=dnevnik_mock.create_app,
    settings={
        "mobile_client_id": "dnevnik-mobile-demo",
        "mobile_client_secret": "demo-mobile-secret",
    },
    credentials=Credentials("smirnova.i.s", "Dnevnik-2026"),
    wrong_password="not-the-password",
    lockout=(Credentials("smirnova.i.s", "Dnevnik-2026"), 5),
    students=("Смирнова Полина Дмитриевна",),
    expected_grades=dnevnik_grades,
    sign_in_requests=frozenset(
        {"POST /mobile/v8.5/authorizations/bycredentials", "POST /v2.0/authorizations"}
    ),
)


def mesh_target() -> ConformanceTarget | None:
    """Return the MESH target when its connector is installed (it may still be landing)."""
    if importlib.util.find_spec("connectors.mesh") is None:
        return None
    try:
        from connectors.mesh import MeshConnector
        from regional_mock import mesh as mesh_mock
    except (ImportError, SyntaxError):  # mid-edit: the kit runs without it
        return None
    return ConformanceTarget(
        name="mesh",
        connector=MeshConnector,
        emulator=mesh_mock.create_app,
        credentials=Credentials("irina.smirnova", "Mesh-2026-parent"),
        second_factor_code="424242",
        wrong_password="not-the-password",
        lockout=(Credentials("irina.smirnova", "Mesh-2026-parent"), 5),
        students=("Смирнов Артём Дмитриевич",),
        expected_grades=mesh_grades,
        sign_in_requests=frozenset({"POST /sps/login/methods/headless/password"}),
    )


def targets() -> list[ConformanceTarget]:
    """Return every built-in target whose connector can be imported."""
    mesh = mesh_target()
    return [NETSCHOOL, DNEVNIK_RU] + ([mesh] if mesh is not None else [])
