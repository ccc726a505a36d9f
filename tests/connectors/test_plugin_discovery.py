"""A third-party connector package plugs in through its entry point alone."""

from __future__ import annotations

import contextlib
import importlib
import subprocess
import sys
import typing as t
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path

import pytest

from connectors.base import Credentials
from connectors.registry import installed_connectors
from connectors.schema import Period
from connectors.schema import Student
from connectors.testing import Bench
from connectors.testing import ConformanceTarget
from connectors.testing import GradeKey
from connectors.testing import bench
from connectors.testing import check_grades_match_world
from connectors.testing import check_rejects_non_http_base_url
from connectors.testing import check_sign_in
from connectors.testing import check_students
from connectors.testing import check_wrong_password
from regional_mock.world import World
from tests.connectors.conformance.wheel import build_wheel

PLUGIN = Path(__file__).parent / "example_plugin"
KIT_CHECKS = (
    check_sign_in,
    check_wrong_password,
    check_students,
    check_grades_match_world,
    check_rejects_non_http_base_url,
)


@contextlib.contextmanager
def installed(root: Path) -> Iterator[Path]:
    """Install the example package with pip into a directory on ``sys.path``; undo it after."""
    wheel = build_wheel(PLUGIN, root / "dist")
    site = root / "site"
    command = [sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "--quiet"]
    command += ["--no-build-isolation", "--disable-pip-version-check", "--target", str(site)]
    subprocess.run([*command, str(wheel)], check=True, timeout=120)
    sys.path.insert(0, str(site))
    importlib.invalidate_caches()
    installed_connectors.cache_clear()
    try:
        yield site
    finally:
        sys.path.remove(str(site))
        sys.modules.pop("example_connector", None)
        importlib.invalidate_caches()
        installed_connectors.cache_clear()


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ConformanceTarget]:
    """Install the example package for the module and describe it for the kit."""
    with installed(tmp_path_factory.mktemp("plugin")):
        yield ConformanceTarget(
            name="example",
            connector=installed_connectors()["example"],
            emulator=lambda world: answer_anything,
            credentials=Credentials("example.parent", "Example-2026"),
            wrong_password="wrong",
            students=("Примеров Пример",),
            expected_grades=canned_grades,
            sign_in_requests=frozenset(),
        )


def canned_grades(world: World, student: Student, period: Period) -> list[GradeKey]:
    """Return what the example connector's canned diary holds in a period."""
    from example_connector import GRADES

    found = [g for g in GRADES.get(student.id, ()) if period.start <= g.date <= period.end]
    return [(g.id, g.value, g.numeric, g.weight) for g in found]


def answer_anything(environ: dict[str, t.Any], start: Callable[..., t.Any]) -> list[bytes]:
    """Stand in for a backend the example never calls (the kit only clears its faults)."""
    start("200 OK", [("Content-Type", "application/json")])
    return [b"{}"]


def test_installing_the_package_adds_the_connector_beside_the_built_ins(tmp_path: Path) -> None:
    """The entry point alone makes «example» appear; no gateway code changes."""
    installed_connectors.cache_clear()
    before = set(installed_connectors())
    assert {"netschool", "dnevnik_ru"} <= before and "example" not in before
    with installed(tmp_path) as site:
        found = installed_connectors()
        assert set(found) == before | {"example"}
        assert found["example"].__module__ == "example_connector"
        assert Path(sys.modules["example_connector"].__file__ or "").is_relative_to(site)
    assert set(installed_connectors()) == before


@pytest.mark.parametrize("check", KIT_CHECKS, ids=lambda c: c.__name__.removeprefix("check_"))
def test_the_example_passes_the_kit(
    example: ConformanceTarget, check: Callable[[Bench], None]
) -> None:
    """The discovered class passes the kit's sign-in, students and grades checks."""
    with bench(example) as served:
        check(served)
