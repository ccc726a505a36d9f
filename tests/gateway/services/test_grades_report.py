"""The marks of a period by subject, with the marks the school removed kept apart."""

from __future__ import annotations

import datetime as dt

from connectors.schema import Grade
from connectors.schema import Period
from connectors.schema import Scale
from gateway.services.grades import grades_report

WEEK = Period(start=dt.date(2026, 11, 30), end=dt.date(2026, 12, 6))


def mark(mark_id: str, value: int, day: int, subject: str = "Математика") -> Grade:
    return Grade(
        id=mark_id,
        subject=subject,
        value=str(value),
        numeric=float(value),
        scale=Scale.FIVE_POINT,
        date=dt.date(2026, 12, day),
    )


def test_removed_marks_are_kept_by_subject_and_never_averaged() -> None:
    report = grades_report(
        [mark("a", 5, 1), mark("b", 4, 2)],
        WEEK,
        removed=[mark("gone", 2, 3), mark("art", 3, 1, subject="ИЗО")],
    )
    assert [s.subject for s in report.subjects] == ["ИЗО", "Математика"]
    art, maths = report.subjects
    assert (art.grades, art.average, [g.id for g in art.removed]) == ([], None, ["art"])
    assert [g.id for g in maths.grades] == ["b", "a"] and maths.average == 4.5
    assert [g.id for g in maths.removed] == ["gone"]
    assert report.average == 4.5 and report.count == 2


def test_a_removed_mark_back_among_the_marks_or_outside_the_period_is_not_shown() -> None:
    report = grades_report(
        [mark("back", 4, 2)],
        WEEK,
        removed=[mark("back", 4, 2), _before_the_week()],
    )
    [maths] = report.subjects
    assert maths.removed == []


def _before_the_week() -> Grade:
    return Grade(
        id="older",
        subject="Математика",
        value="2",
        numeric=2.0,
        scale=Scale.FIVE_POINT,
        date=dt.date(2026, 11, 20),
    )
