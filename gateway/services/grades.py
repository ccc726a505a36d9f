"""Shape a child's marks for reading: by subject, with averages and a progress line."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field

from connectors.schema import Grade
from connectors.schema import Period


def weighted_average(grades: Iterable[Grade]) -> float | None:
    """Average the numeric marks by weight; a mark of unknown weight counts once.

    This is how all three supported systems compute a subject's average: marks without
    a number («зч», «н/а», a dot) do not take part.
    """
    total = weights = 0.0
    for grade in grades:
        if grade.numeric is None:
            continue
        weight = grade.weight if grade.weight else 1.0
        total += grade.numeric * weight
        weights += weight
    return round(total / weights, 2) if weights else None


@dataclass(frozen=True, slots=True, kw_only=True)
class SubjectGrades:
    """The marks of one subject in a period, newest first, with their average; the marks
    the school removed are kept apart and count for nothing."""

    subject: str
    grades: list[Grade]
    average: float | None
    removed: list[Grade] = field(default_factory=list)


@dataclass(frozen=True, slots=True, kw_only=True)
class GradesReport:
    """A child's marks for a period, by subject."""

    period: Period
    subjects: list[SubjectGrades]
    average: float | None

    @property
    def count(self) -> int:
        """Return how many marks the report holds."""
        return sum(len(s.grades) for s in self.subjects)


def grades_report(
    grades: Iterable[Grade], period: Period, *, removed: Iterable[Grade] = ()
) -> GradesReport:
    """Group marks by subject (alphabetically), newest mark first within each.

    ``removed`` are marks the school deleted since the gateway first saw them: shown
    with their subject, never averaged. One that is back among ``grades`` is not removed.
    """
    marks = list(grades)
    present = {g.id for g in marks}
    by_subject: dict[str, list[Grade]] = defaultdict(list)
    gone: dict[str, list[Grade]] = defaultdict(list)
    for grade in marks:
        by_subject[grade.subject].append(grade)
    for grade in removed:
        if grade.id not in present and period.start <= grade.date <= period.end:
            gone[grade.subject].append(grade)

    def newest_first(items: list[Grade]) -> list[Grade]:
        return sorted(items, key=lambda g: (g.date, g.id), reverse=True)

    subjects = [
        SubjectGrades(
            subject=name,
            grades=newest_first(by_subject.get(name, [])),
            average=weighted_average(by_subject.get(name, [])),
            removed=newest_first(gone.get(name, [])),
        )
        for name in sorted(by_subject.keys() | gone.keys())
    ]
    return GradesReport(period=period, subjects=subjects, average=weighted_average(marks))
