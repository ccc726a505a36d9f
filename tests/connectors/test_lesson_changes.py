"""Each connector declares the timetable changes its wire format marks; none is guessed."""

from __future__ import annotations

import pytest

from connectors.base import lesson_changes_of
from connectors.dnevnik_ru import DnevnikRuConnector
from connectors.mesh import MeshConnector
from connectors.netschool import NetSchoolConnector
from connectors.schema import LessonStatus
from tests.connectors.example_plugin.example_connector import ExampleConnector


@pytest.mark.parametrize(
    ("connector", "declared"),
    [
        # mesh.md §2.4 a: the event calendar's ``replaced`` and ``cancelled`` flags.
        (MeshConnector, {LessonStatus.REPLACED, LessonStatus.CANCELLED}),
        # dnevnik_ru.md §2.8: no replacement field, and no observed lesson status vocabulary.
        (DnevnikRuConnector, set()),
        # netschool.md §2.4: the web diary has no change field at all.
        (NetSchoolConnector, set()),
        # A third-party connector that declares nothing is taken to report nothing.
        (ExampleConnector, set()),
    ],
    ids=["mesh", "dnevnik_ru", "netschool", "undeclared"],
)
def test_the_declared_lesson_changes(connector: type, declared: set[LessonStatus]) -> None:
    assert lesson_changes_of(connector) == declared
