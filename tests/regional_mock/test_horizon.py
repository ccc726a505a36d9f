"""Every emulator serves the three school weeks ahead that the gateway's calendar promises."""

from __future__ import annotations

import datetime as dt

import pytest

from connectors.schema import Period
from connectors.testing import ConformanceTarget
from connectors.testing import bench
from regional_mock.conformance import targets
from tests.regional_mock.conftest import TODAY


@pytest.mark.parametrize("target", targets(today=TODAY), ids=lambda target: target.name)
def test_each_system_serves_lessons_and_homework_in_each_of_the_next_three_weeks(
    target: ConformanceTarget,
) -> None:
    with bench(target) as served:
        session = served.sign_in()
        child = served.child(session)
        for week in range(3):
            start = TODAY + dt.timedelta(days=7 * week + 1)
            period = Period(start=start, end=start + dt.timedelta(days=6))
            assert served.connector.fetch_schedule(session, child.id, period), week + 1
            assert served.connector.fetch_homework(session, child.id, period), week + 1
