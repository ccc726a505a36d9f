"""Absences and late arrivals, counted apart: a child who came late was at school."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from connectors.schema import Attendance
from connectors.schema import AttendanceKind


def is_absence(record: Attendance) -> bool:
    """Tell whether the child missed the lesson (a late arrival is not an absence)."""
    return record.kind is not AttendanceKind.LATE


@dataclass(frozen=True, slots=True, kw_only=True)
class AttendanceReport:
    """A period's attendance records, newest first, with what the page counts."""

    records: list[Attendance]
    absences: int
    late: int
    truancy: int  # absences without a good reason


def attendance_report(records: Iterable[Attendance]) -> AttendanceReport:
    """Sort a period's records newest first and count absences, late arrivals and truancy."""
    ordered = sorted(records, key=lambda record: record.date, reverse=True)
    absences = [record for record in ordered if is_absence(record)]
    return AttendanceReport(
        records=ordered,
        absences=len(absences),
        late=len(ordered) - len(absences),
        truancy=sum(record.kind is AttendanceKind.UNEXCUSED for record in absences),
    )
