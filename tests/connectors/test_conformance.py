"""Run the conformance kit over every built-in connector: targets × checks, as a matrix."""

from __future__ import annotations

import typing as t
from collections.abc import Callable

import pytest

from connectors.testing import CHECKS
from connectors.testing import Bench
from connectors.testing import ConformanceTarget
from connectors.testing import bench
from regional_mock.conformance import targets

# (target, check) -> the connector bug that makes the check fail, reported to the lead.
KNOWN_BUGS: dict[tuple[str, str], str] = {}  # (target, check) -> why it is expected to fail


def matrix() -> list[t.Any]:
    """Return one pytest parameter per target and check, known bugs marked xfail."""
    params = []
    for target in targets():
        for check in CHECKS:
            name = check.__name__.removeprefix("check_")
            reason = KNOWN_BUGS.get((target.name, name))
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            params.append(pytest.param(target, check, id=f"{target.name}-{name}", marks=marks))
    return params


@pytest.mark.parametrize(("target", "check"), matrix())
def test_connector_conforms(target: ConformanceTarget, check: Callable[[Bench], None]) -> None:
    """The connector passes one check of the kit against a fresh emulator."""
    with bench(target) as served:
        check(served)
