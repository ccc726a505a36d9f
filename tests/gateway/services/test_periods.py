"""The school year offered by the picker is always a range the picker itself accepts."""

from __future__ import annotations

import datetime as dt

import pytest

from connectors.schema import Section
from gateway.services import periods

LATE_AUGUST_TO_EARLY_SEPTEMBER = [dt.date(2026, 8, 10) + dt.timedelta(days=n) for n in range(30)]


@pytest.mark.parametrize("today", LATE_AUGUST_TO_EARLY_SEPTEMBER, ids=str)
@pytest.mark.parametrize("section", list(Section), ids=str)
def test_the_school_year_link_is_never_refused(section: Section, today: dt.date) -> None:
    year = periods.school_year(section, today)
    choice = periods.pick(
        year.start.isoformat(), year.end.isoformat(), section=section, today=today
    )
    assert choice.refusal is None and choice.period == year


def test_the_school_year_ends_on_31_august_even_when_plans_look_past_it() -> None:
    year = periods.school_year(Section.SCHEDULE, dt.date(2026, 8, 25))
    assert (year.start, year.end) == (dt.date(2025, 9, 1), dt.date(2026, 8, 31))
    september = periods.school_year(Section.SCHEDULE, dt.date(2026, 9, 1))
    assert (september.start, september.end) == (dt.date(2026, 9, 1), dt.date(2026, 9, 14))
