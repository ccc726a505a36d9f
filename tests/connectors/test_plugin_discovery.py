"""A third-party connector package plugs in through its entry point alone.

It also passes the conformance kit without our emulators: its oracle is a recorded fixture,
and a subprocess that cannot import ``regional_mock`` (nor ``gateway``) runs the same checks.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import functools
import importlib
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Mapping
from pathlib import Path

import pytest

from connectors.base import Connector
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
from tests.connectors.conformance.wheel import build_wheel

PLUGIN = Path(__file__).parent / "example_plugin"
RECORDED = PLUGIN / "recorded.json"
ROOT = Path(__file__).parents[2]
KIT_CHECKS = (
    check_sign_in,
    check_wrong_password,
    check_students,
    check_grades_match_world,
    check_rejects_non_http_base_url,
)


@dataclasses.dataclass(frozen=True)
class RecordedDiary:
    """The example's diary as recorded in a JSON fixture: the kit's oracle for it."""

    today: dt.date
    month: Period
    grades: Mapping[str, tuple[tuple[dt.date, GradeKey], ...]]  # by the child's full name
    sign_in_requests: frozenset[str] = frozenset()  # the kit injects no faults here

    @classmethod
    def load(cls, path: Path) -> RecordedDiary:
        """Read a recording: its day, its month and each child's grades."""
        data = json.loads(path.read_text(encoding="utf-8"))
        start, end = map(dt.date.fromisoformat, data["month"])
        grades = {
            child: tuple(
                (dt.date.fromisoformat(g["date"]), (g["id"], g["value"], g["numeric"], g["weight"]))
                for g in recorded
            )
            for child, recorded in data["grades"].items()
        }
        return cls(dt.date.fromisoformat(data["today"]), Period(start=start, end=end), grades)

    @property
    def students(self) -> tuple[str, ...]:
        """The children the recorded login lists."""
        return tuple(self.grades)

    @property
    def private_names(self) -> tuple[str, ...]:
        """The recording names no one but the children."""
        return self.students

    def expected_grades(self, student: Student, period: Period) -> list[GradeKey]:
        """Return the recorded grades of a child dated in a period."""
        return [
            key for day, key in self.grades[student.full_name] if period.start <= day <= period.end
        ]


def example_target(connector: type[Connector]) -> ConformanceTarget[RecordedDiary]:
    """Describe the example for the kit: no emulator to serve and no faults to inject."""
    return ConformanceTarget(
        name="example",
        connector=connector,
        oracle=functools.partial(RecordedDiary.load, RECORDED),
        base_url="https://diary.example.org",  # the canned connector never calls it
        faults=None,
        credentials=Credentials("example.parent", "Example-2026"),
        wrong_password="wrong",
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
def example_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Install the example package for the module; give the directory it went to."""
    with installed(tmp_path_factory.mktemp("plugin")) as site:
        yield site


@pytest.fixture(scope="module")
def example(example_site: Path) -> ConformanceTarget[RecordedDiary]:
    """Describe the installed example for the kit."""
    return example_target(installed_connectors()["example"])


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
    example: ConformanceTarget[RecordedDiary], check: Callable[[Bench], None]
) -> None:
    """The discovered class passes the kit's sign-in, students and grades checks."""
    with bench(example) as served:
        check(served)


STANDALONE = """
    import importlib, json, pkgutil, sys, unittest

    BLOCKED = ("regional_mock", "gateway")
    for name in BLOCKED:
        sys.modules[name] = None  # importing it, or anything under it, fails

    import connectors
    from connectors.registry import installed_connectors
    from connectors.testing import CHECKS, bench
    from tests.connectors.test_plugin_discovery import example_target

    for module in pkgutil.walk_packages(connectors.__path__, "connectors."):
        importlib.import_module(module.name)
    target, passed = example_target(installed_connectors()["example"]), []
    for check in CHECKS:
        try:
            with bench(target) as served:
                check(served)
            passed.append(check.__name__)
        except unittest.SkipTest:
            pass
    loaded = [m for m, module in sys.modules.items() if module and m.startswith(BLOCKED)]
    print(json.dumps({"passed": passed, "loaded": loaded}))
"""


def test_the_kit_and_every_connector_module_stand_without_the_emulators(example_site: Path) -> None:
    """With regional_mock and gateway unimportable, connectors loads and the example conforms.

    Every check of the kit runs; those needing what the example lacks (faults, a lockout, a
    schedule, a served backend to drift) skip, and the rest pass.
    """
    path = os.pathsep.join([str(example_site), str(ROOT)])
    ran = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(STANDALONE)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": path},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr
    report = json.loads(ran.stdout)
    assert report["loaded"] == []
    assert {c.__name__ for c in KIT_CHECKS} <= set(report["passed"]), report
